import type { InjectionConfig } from './config.ts';
import type { AdmissionOutcome } from './metrics.ts';
import { mutatePod } from './mutate.ts';
import type { EventSink, IdentityLookup } from './ports.ts';
import { selectionOutcome, serviceAccountName } from './resolve.ts';
import type { AdmissionRequest, AdmissionResponse, AdmissionReview, Pod } from './types.ts';

export interface AdmissionOptions {
  injection: InjectionConfig;
  /**
   * A pod opted in but its ServiceAccount cannot be found (or read): `admit` it without
   * credentials (warning + Event + metric; the default, like AWS), or `reject` it so the
   * controller retries (a ReplicaSet recreates it once the ServiceAccount exists; like Azure).
   */
  missingServiceAccount: 'admit' | 'reject';
}

export interface AdmissionDeps {
  lookup: IdentityLookup;
  events?: EventSink | undefined;
  onMissingServiceAccount?: () => void;
}

export interface AdmissionResult {
  review: AdmissionReview;
  outcome: AdmissionOutcome;
}

const SUPPORTED_VERSIONS = new Set(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']);

export class BadAdmissionRequest extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates the envelope; throws BadAdmissionRequest with a message meant for the apiserver's
 * log (it shows the body of a non-200 answer). The object itself is checked later, leniently.
 */
export function parseAdmissionReview(body: string): AdmissionReview {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new BadAdmissionRequest(`body is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw new BadAdmissionRequest('body is not a JSON object');
  const { apiVersion, kind, request } = parsed;
  if (typeof apiVersion !== 'string' || !SUPPORTED_VERSIONS.has(apiVersion)) {
    throw new BadAdmissionRequest(
      `apiVersion ${JSON.stringify(apiVersion)} is not admission.k8s.io/v1 (or v1beta1)`,
    );
  }
  if (kind !== 'AdmissionReview') {
    throw new BadAdmissionRequest(`kind ${JSON.stringify(kind)} is not AdmissionReview`);
  }
  if (!isObject(request)) throw new BadAdmissionRequest('request is missing');
  if (typeof request.uid !== 'string' || request.uid === '') {
    throw new BadAdmissionRequest('request.uid is missing');
  }
  return parsed as unknown as AdmissionReview;
}

function reply(
  review: AdmissionReview,
  response: Omit<AdmissionResponse, 'uid'>,
  outcome: AdmissionOutcome,
): AdmissionResult {
  const request = review.request!;
  const warnings = response.warnings?.length ? response.warnings : undefined;
  return {
    outcome,
    review: {
      apiVersion: review.apiVersion,
      kind: review.kind,
      response: { uid: request.uid, ...response, ...(warnings ? { warnings } : {}) },
    },
  };
}

function podOf(request: AdmissionRequest): Pod | undefined {
  const isPod =
    request.kind?.group === '' &&
    request.kind?.kind === 'Pod' &&
    request.resource?.resource === 'pods';
  if (!isPod || request.operation !== 'CREATE' || request.subResource) return undefined;
  return isObject(request.object) ? request.object : undefined;
}

/**
 * One admission: anything but a pod CREATE is allowed untouched (a hand-edited webhook
 * configuration must not break other resources); a pod is mutated per DESIGN.md.
 */
export async function admit(
  review: AdmissionReview,
  deps: AdmissionDeps,
  options: AdmissionOptions,
): Promise<AdmissionResult> {
  const request = review.request!;
  const pod = podOf(request);
  if (!pod) return reply(review, { allowed: true }, 'Ignored');
  const nsName = request.namespace || pod.metadata?.namespace || '';
  const config = options.injection;

  // Cheap checks first: the namespace is the only read most pods need. The apiserver only
  // sends pods that opted in, so a namespace that cannot be read is reported, not ignored.
  let namespace;
  try {
    namespace = await deps.lookup.namespace(nsName);
  } catch (error) {
    const why = `Namespace ${nsName} could not be read (${describe(error)})`;
    return unresolved(review, pod, nsName, why, 'LookupFailed', deps, options);
  }
  namespace ??= { metadata: { name: nsName, labels: {} } };
  const notSelected = selectionOutcome(pod, namespace, config);
  if (notSelected) return reply(review, { allowed: true }, notSelected);

  const saName = serviceAccountName(pod);
  let serviceAccount;
  let lookupError: unknown;
  try {
    serviceAccount = await deps.lookup.serviceAccount(nsName, saName);
  } catch (error) {
    lookupError = error;
  }
  if (!serviceAccount) {
    deps.onMissingServiceAccount?.();
    const why =
      lookupError === undefined
        ? `ServiceAccount ${nsName}/${saName} not found`
        : `ServiceAccount ${nsName}/${saName} could not be read (${describe(lookupError)})`;
    const outcome = lookupError === undefined ? 'ServiceAccountMissing' : 'LookupFailed';
    return unresolved(review, pod, nsName, why, outcome, deps, options);
  }

  const result = mutatePod(pod, serviceAccount, namespace, config);
  if (result.patch.length === 0) {
    return reply(review, { allowed: true, warnings: result.warnings }, result.outcome);
  }
  return reply(
    review,
    {
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(result.patch)).toString('base64'),
      warnings: result.warnings,
    },
    result.outcome,
  );
}

/** The pod opted in but its ServiceAccount (or Namespace) is unknown: admit bare, or reject. */
function unresolved(
  review: AdmissionReview,
  pod: Pod,
  nsName: string,
  why: string,
  outcome: 'ServiceAccountMissing' | 'LookupFailed',
  deps: AdmissionDeps,
  options: AdmissionOptions,
): AdmissionResult {
  const reject = options.missingServiceAccount === 'reject';
  const message = reject
    ? `${why}: pod rejected so that its controller creates it again`
    : `${why}: pod admitted without RRSA credentials`;
  // No Event for a dry run: sideEffects None promises the apiserver there are none. The Event is
  // on the ServiceAccount, not the pod: the sink writes one per ServiceAccount and message per
  // interval, so a flood of pods (or forged reviews sent straight to the port, with made-up pod
  // names) cannot flood etcd with Events.
  if (!review.request?.dryRun) {
    deps.events?.record(
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        namespace: nsName,
        name: serviceAccountName(pod),
      },
      'Warning',
      reject
        ? 'RRSAPodRejected'
        : outcome === 'LookupFailed'
          ? 'RRSALookupFailed'
          : 'RRSAServiceAccountMissing',
      message,
    );
  }
  if (reject) {
    return reply(
      review,
      { allowed: false, status: { code: 403, reason: 'Forbidden', message } },
      'Rejected',
    );
  }
  return reply(review, { allowed: true, warnings: [message] }, outcome);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
}
