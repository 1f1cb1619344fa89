import { setTimeout as sleep } from 'node:timers/promises';
import { type AuthSettings, authenticate, authorize } from './auth.ts';
import type { ActionContext, ActionSpec, Caller, Service } from './context.ts';
import { SERVICE_VERSIONS } from './context.ts';
import { ApiError, apiNotFound, internalError, missingParam } from './errors.ts';
import type { FaultInjector } from './faults.ts';
import type { Clock, IdSource } from './ids.ts';
import type { JwksClient } from './jwks.ts';
import { Params } from './params.ts';
import { redactParams, type RequestRecorder } from './recorder.ts';
import { type HeaderMap, parseQuery } from './signature.ts';
import type { Accounts } from './accounts.ts';
import type { EmulatorState } from './state.ts';

/**
 * One API request from bytes to a JSON answer: find the action (x-acs-action / x-acs-version
 * headers, else the Action / Version parameters), inject faults, authenticate, authorise, run
 * the handler, and shape any failure as Alibaba's error body. Every request is recorded.
 */

export interface ApiRequest {
  method: string;
  /** Path and query as received (`/?Action=...`). */
  url: string;
  headers: HeaderMap;
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export interface DispatcherDeps {
  accounts: Accounts;
  ids: IdSource;
  clock: Clock;
  jwks: JwksClient;
  faults: FaultInjector;
  recorder: RequestRecorder;
  auth: AuthSettings;
  actions: ActionSpec[];
  log?: (message: string) => void;
}

const HOSTS: Record<Service, string> = {
  ram: 'ram.aliyuncs.com',
  sts: 'sts.aliyuncs.com',
  ims: 'ims.aliyuncs.com',
};

const PRODUCTS: Record<Service, string> = { ram: 'Ram', sts: 'Sts', ims: 'Ims' };

function headerOf(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isForm(headers: HeaderMap): boolean {
  return (headerOf(headers, 'content-type') ?? '').includes('application/x-www-form-urlencoded');
}

/** The error body the POP gateway returns (reference §2.7). */
export function errorBody(
  error: ApiError,
  requestId: string,
  service: Service | undefined,
): Record<string, unknown> {
  const product = service ? PRODUCTS[service] : 'Ram';
  return {
    RequestId: requestId,
    HostId: service ? HOSTS[service] : 'ram.aliyuncs.com',
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=${product}`,
    ...error.extra,
  };
}

interface ParsedRequest {
  rawQuery: string;
  /** Query and form parameters merged (the credentials SDK posts a form, reference §6). */
  params: Record<string, string>;
  action: string;
  version: string | undefined;
}

/** How far a request got: what the request log records about it. */
interface Progress {
  spec?: ActionSpec;
  caller: Caller;
  faulted: boolean;
}

function parseRequest(request: ApiRequest): ParsedRequest {
  const queryIndex = request.url.indexOf('?');
  const rawQuery = queryIndex >= 0 ? request.url.slice(queryIndex + 1) : '';
  const form = isForm(request.headers) ? parseQuery(request.body.toString('utf8')) : {};
  const params = { ...parseQuery(rawQuery), ...form };
  return {
    rawQuery,
    params,
    action: headerOf(request.headers, 'x-acs-action') ?? params.Action ?? '',
    version: headerOf(request.headers, 'x-acs-version') ?? params.Version,
  };
}

export class ApiDispatcher {
  private readonly deps: DispatcherDeps;
  private readonly byVersion = new Map<string, ActionSpec>();
  private readonly byName = new Map<string, ActionSpec[]>();

  constructor(deps: DispatcherDeps) {
    this.deps = deps;
    for (const spec of deps.actions) {
      this.byVersion.set(`${SERVICE_VERSIONS[spec.service]}/${spec.action}`, spec);
      this.byName.set(spec.action, [...(this.byName.get(spec.action) ?? []), spec]);
    }
  }

  /** The action spec; without a version only an unambiguous action name resolves. */
  resolve(action: string, version: string | undefined): ActionSpec {
    const spec = version
      ? this.byVersion.get(`${version}/${action}`)
      : this.byName.get(action)?.length === 1
        ? this.byName.get(action)?.[0]
        : undefined;
    if (!spec) throw apiNotFound(action, version ?? '');
    return spec;
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const started = performance.now();
    const seq = this.deps.recorder.nextSeq();
    const requestId = this.deps.ids.uuid();
    const parsed = parseRequest(request);
    const progress: Progress = { caller: { kind: 'anonymous' }, faulted: false };
    let response: ApiResponse;
    try {
      const body = await this.run(request, parsed, progress);
      response = { status: 200, headers: {}, body: { RequestId: requestId, ...body } };
    } catch (thrown) {
      const error = thrown instanceof ApiError ? thrown : this.unexpected(thrown);
      response = {
        status: error.status,
        headers: { ...error.headers },
        body: errorBody(error, requestId, progress.spec?.service),
      };
    }
    this.record(seq, requestId, started, parsed, progress, response);
    response.headers['x-acs-request-id'] = requestId;
    return response;
  }

  private record(
    seq: number,
    requestId: string,
    started: number,
    parsed: ParsedRequest,
    progress: Progress,
    response: ApiResponse,
  ): void {
    const { spec, caller } = progress;
    this.deps.recorder.record({
      seq,
      time: new Date(this.deps.clock.now()).toISOString(),
      service: spec?.service,
      action: spec?.action ?? (parsed.action || '<none>'),
      version: parsed.version,
      write: spec?.write ?? false,
      caller: caller.kind,
      accessKeyId: 'accessKeyId' in caller ? caller.accessKeyId : undefined,
      status: response.status,
      code: response.status >= 400 ? String(response.body.Code) : undefined,
      requestId,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      params: redactParams(parsed.params),
      faulted: progress.faulted,
    });
  }

  private unexpected(thrown: unknown): ApiError {
    this.deps.log?.(`emulator: internal error: ${(thrown as Error)?.stack ?? String(thrown)}`);
    return internalError();
  }

  private async run(
    request: ApiRequest,
    { rawQuery, params, action, version }: ParsedRequest,
    state: Progress,
  ): Promise<Record<string, unknown>> {
    const { deps } = this;
    if (!action) throw missingParam('Action');
    const spec = this.resolve(action, version);
    state.spec = spec;
    const fault = deps.faults.evaluate(spec.service, spec.action, params);
    if (fault.latencyMs > 0) {
      state.faulted = true;
      await sleep(fault.latencyMs);
    }
    if (fault.error) {
      state.faulted = true;
      throw fault.error;
    }
    let account: EmulatorState;
    if (spec.anonymous) {
      account = deps.accounts.forArn(spec.anonymousAccountArn?.(params));
    } else {
      const authenticated = authenticate(
        { method: request.method, rawQuery, headers: request.headers, body: request.body, params },
        deps.accounts,
        deps.auth,
      );
      state.caller = authenticated.caller;
      account = authenticated.state;
    }
    const ctx: ActionContext = {
      params: new Params(params),
      state: account,
      accounts: deps.accounts,
      caller: state.caller,
      ids: deps.ids,
      clock: deps.clock,
      jwks: deps.jwks,
      log: deps.log ?? (() => {}),
    };
    authorize(spec, ctx);
    return spec.handler(ctx);
  }
}
