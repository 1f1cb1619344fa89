import { Ajv, type ErrorObject } from 'ajv';
import { policyDocumentProblems } from '../identity/inline-policy.ts';
import { MAX_CUSTOM_POLICIES_PER_ROLE, specSchema } from './schema.ts';
import type { PodIdentityBindingSpec } from './types.ts';

/**
 * The controller re-validates every spec with the CRD's own schema: a binding written before a
 * schema change, or into an apiserver whose CRD is older, must still get a clear message instead
 * of a half-applied role. Kubernetes-only keywords are known to ajv but not evaluated (CEL rules
 * are the apiserver's job; the ones that matter on their own are re-checked below).
 */
const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addVocabulary([
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-preserve-unknown-fields',
]);
const validateSpecSchema = ajv.compile<PodIdentityBindingSpec>(specSchema);

export interface SpecProblem {
  /** JSON path from the object root, for example `spec.role.maxSessionDuration`. */
  field: string;
  message: string;
}

export type SpecValidation =
  { valid: true; spec: PodIdentityBindingSpec } | { valid: false; problems: SpecProblem[] };

export function validateSpec(spec: unknown): SpecValidation {
  const problems: SpecProblem[] = [];
  if (!validateSpecSchema(spec)) {
    for (const error of validateSpecSchema.errors ?? []) problems.push(describeError(error));
  } else {
    problems.push(...crossFieldProblems(spec));
  }
  if (problems.length > 0) return { valid: false, problems: dedupe(problems) };
  return { valid: true, spec: spec as PodIdentityBindingSpec };
}

export function formatProblems(problems: readonly SpecProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}

function crossFieldProblems(spec: PodIdentityBindingSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (spec.role?.adopt && !spec.role.name)
    problems.push({
      field: 'spec.role.name',
      message: 'required when spec.role.adopt is true: name the existing RAM role to adopt',
    });
  const seen = new Set<string>();
  for (const [index, policy] of (spec.role?.policies ?? []).entries()) {
    const key = `${policy.type}:${policy.name}`;
    if (seen.has(key))
      problems.push({
        field: `spec.role.policies[${index}]`,
        message: `duplicate policy ${key}: list each policy once`,
      });
    seen.add(key);
  }
  problems.push(...inlinePolicyProblems(spec));
  return problems;
}

/** Names unique (case-insensitively: RAM policy names are), RAM's grammar, the per-role limit. */
function inlinePolicyProblems(spec: PodIdentityBindingSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const inline = spec.role?.inlinePolicies ?? [];
  const names = new Set<string>();
  for (const [index, entry] of inline.entries()) {
    const field = `spec.role.inlinePolicies[${index}]`;
    if (names.has(entry.name.toLowerCase()))
      problems.push({
        field: `${field}.name`,
        message: `duplicate inline policy name ${entry.name} (names are compared ignoring case): give each entry its own name`,
      });
    names.add(entry.name.toLowerCase());
    for (const message of policyDocumentProblems(entry.document))
      problems.push({ field: `${field}.document`, message });
  }
  const custom = (spec.role?.policies ?? []).filter((p) => p.type === 'Custom').length;
  if (inline.length > 0 && custom + inline.length > MAX_CUSTOM_POLICIES_PER_ROLE)
    problems.push({
      field: 'spec.role.inlinePolicies',
      message: `RAM attaches at most ${MAX_CUSTOM_POLICIES_PER_ROLE} Custom policies to a role and inline policies count as Custom: ${custom} Custom + ${inline.length} inline is too many; merge some inline documents`,
    });
  return problems;
}

function fieldPath(error: ErrorObject): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`));
  let path = `spec${segments.join('')}`;
  if (error.keyword === 'required') path += `.${String(error.params.missingProperty)}`;
  if (error.keyword === 'additionalProperties')
    path += `.${String(error.params.additionalProperty)}`;
  return path;
}

function describeError(error: ErrorObject): SpecProblem {
  const field = fieldPath(error);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { field, message: 'is required' };
    case 'additionalProperties':
      return { field, message: 'is not a known field: remove it or check its spelling' };
    case 'enum':
      return {
        field,
        message: `must be one of ${(params.allowedValues as unknown[]).join(', ')}`,
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { field, message: `${error.message ?? 'is out of range'}` };
    case 'pattern':
      return { field, message: `must match ${String(params.pattern)}` };
    default:
      return { field, message: error.message ?? `fails ${error.keyword}` };
  }
}

function dedupe(problems: SpecProblem[]): SpecProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.field}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
