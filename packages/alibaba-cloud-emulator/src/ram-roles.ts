import {
  type ActionContext,
  type ActionSpec,
  defineActions,
  ramResource,
  type ResponseBody,
} from './context.ts';
import {
  alreadyAttached,
  limitExceeded,
  notAttached,
  paramInvalid,
  paramLength,
  roleExists,
  roleHasPolicies,
} from './errors.ts';
import { isoSeconds } from './ids.ts';
import { parseTags, POLICY_NAME_CHARS, ROLE_NAME_CHARS, type Params } from './params.ts';
import { parsePolicyDocument } from './policy-document.ts';
import type { EmulatorState, PolicyType, RoleRecord } from './state.ts';
import { applyTags, matchesTagFilter, tagList } from './ram-tags.ts';

/** RAM role lifecycle and role-policy attachments (reference §3). */

export const MAX_SESSION_MIN = 3600;
export const MAX_SESSION_MAX = 43200;

function roleName(params: Params): string {
  return params.name('RoleName', 64, ROLE_NAME_CHARS) as string;
}

function trustPolicy(
  params: Params,
  state: EmulatorState,
  name: string,
  required: boolean,
): string | undefined {
  const text = params.optional(name);
  if (text === undefined) return required ? params.required(name) : undefined;
  if (text.length > state.quotas.trustPolicyMaxLength) throw paramLength(name);
  parsePolicyDocument(text, 'trust');
  return text;
}

function roleBase(state: EmulatorState, role: RoleRecord): ResponseBody {
  return {
    Arn: state.roleArn(role.roleName),
    CreateDate: role.createDate,
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    RoleId: role.roleId,
    RoleName: role.roleName,
  };
}

function roleDetail(state: EmulatorState, role: RoleRecord): ResponseBody {
  return {
    ...roleBase(state, role),
    AssumeRolePolicyDocument: role.trustPolicy,
    UpdateDate: role.updateDate,
  };
}

function createRole(ctx: ActionContext): ResponseBody {
  const { params, state } = ctx;
  const name = roleName(params);
  const trust = trustPolicy(params, state, 'AssumeRolePolicyDocument', true) as string;
  const description = params.bounded('Description', 1024, false) ?? '';
  const maxSession = params.integer(
    'MaxSessionDuration',
    MAX_SESSION_MIN,
    MAX_SESSION_MAX,
    MAX_SESSION_MIN,
  );
  const tags = parseTags(params, 'Tag', state.quotas.tagsPerResource);
  if (state.findRole(name)) throw roleExists();
  if (state.roles.size >= state.quotas.roles) throw limitExceeded('LimitExceeded.Role', 'roles');
  const now = isoSeconds(ctx.clock.now());
  const role: RoleRecord = {
    seq: state.nextSeq(),
    roleId: `3${ctx.ids.digits(18)}`,
    roleName: name,
    description,
    trustPolicy: trust,
    maxSessionDuration: maxSession,
    createDate: now,
    updateDate: now,
    tags: new Map(),
    policies: [],
  };
  applyTags(role.tags, tags, state.quotas.tagsPerResource);
  state.roles.set(name.toLowerCase(), role);
  return { Role: { ...roleBase(state, role), AssumeRolePolicyDocument: role.trustPolicy } };
}

function getRole(ctx: ActionContext): ResponseBody {
  const role = ctx.state.requireRole(roleName(ctx.params));
  return { Role: roleDetail(ctx.state, role) };
}

function updateRole(ctx: ActionContext): ResponseBody {
  const { params, state } = ctx;
  const name = roleName(params);
  const trust = trustPolicy(params, state, 'NewAssumeRolePolicyDocument', false);
  const description = params.bounded('NewDescription', 1024, false);
  const maxSession = params.optional('NewMaxSessionDuration')
    ? params.integer('NewMaxSessionDuration', MAX_SESSION_MIN, MAX_SESSION_MAX, MAX_SESSION_MIN)
    : undefined;
  const role = state.requireRole(name);
  if (trust !== undefined) role.trustPolicy = trust;
  if (description !== undefined) role.description = description;
  if (maxSession !== undefined) role.maxSessionDuration = maxSession;
  role.updateDate = isoSeconds(ctx.clock.now());
  return { Role: roleDetail(state, role) };
}

function deleteRole(ctx: ActionContext): ResponseBody {
  const role = ctx.state.requireRole(roleName(ctx.params));
  if (role.policies.length > 0) throw roleHasPolicies();
  ctx.state.roles.delete(role.roleName.toLowerCase());
  return {};
}

/** Opaque paging markers: the creation sequence of the next item. */
export function encodeMarker(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64');
}

export function decodeMarker(params: Params): number {
  const marker = params.optional('Marker');
  if (marker === undefined) return 0;
  const match = /^seq:(\d+)$/.exec(Buffer.from(marker, 'base64').toString('utf8'));
  if (!match) throw paramInvalid('Marker');
  return Number(match[1]);
}

/** One page of `items` (ordered by creation) starting at the Marker. */
export function page<T extends { seq: number }>(
  params: Params,
  items: T[],
): { items: T[]; marker: string | undefined } {
  const maxItems = params.integer('MaxItems', 1, 1000, 100);
  const from = decodeMarker(params);
  const rest = items.filter((i) => i.seq >= from).sort((a, b) => a.seq - b.seq);
  const next = rest[maxItems];
  return { items: rest.slice(0, maxItems), marker: next ? encodeMarker(next.seq) : undefined };
}

function listRoles(ctx: ActionContext): ResponseBody {
  const filter = parseTags(ctx.params, 'Tag', 20);
  const roles = [...ctx.state.roles.values()].filter((r) => matchesTagFilter(r.tags, filter));
  const { items, marker } = page(ctx.params, roles);
  return {
    IsTruncated: marker !== undefined,
    ...(marker ? { Marker: marker } : {}),
    Roles: {
      Role: items.map((r) => ({
        ...roleBase(ctx.state, r),
        UpdateDate: r.updateDate,
        Tags: { Tag: tagList(r.tags) },
      })),
    },
  };
}

function policyRef(params: Params): { type: PolicyType; name: string } {
  const type = params.oneOf('PolicyType', ['System', 'Custom'] as const) as PolicyType;
  const name = params.name('PolicyName', 128, POLICY_NAME_CHARS) as string;
  return { type, name };
}

function attachPolicyToRole(ctx: ActionContext): ResponseBody {
  const { state } = ctx;
  const ref = policyRef(ctx.params);
  const role = state.requireRole(roleName(ctx.params));
  const policy = state.requirePolicy(ref.type, ref.name);
  const lower = policy.name.toLowerCase();
  if (role.policies.some((p) => p.type === policy.type && p.name.toLowerCase() === lower)) {
    throw alreadyAttached();
  }
  const sameType = role.policies.filter((p) => p.type === policy.type).length;
  const limit =
    policy.type === 'System'
      ? state.quotas.systemPoliciesPerRole
      : state.quotas.customPoliciesPerRole;
  if (sameType >= limit) throw limitExceeded('LimitExceeded.Role.Policy', 'role policies');
  role.policies.push({
    type: policy.type,
    name: policy.name,
    attachDate: isoSeconds(ctx.clock.now()),
  });
  return {};
}

function detachPolicyFromRole(ctx: ActionContext): ResponseBody {
  const ref = policyRef(ctx.params);
  const role = ctx.state.requireRole(roleName(ctx.params));
  const lower = ref.name.toLowerCase();
  const index = role.policies.findIndex(
    (p) => p.type === ref.type && p.name.toLowerCase() === lower,
  );
  if (index < 0) {
    ctx.state.requirePolicy(ref.type, ref.name);
    throw notAttached();
  }
  role.policies.splice(index, 1);
  return {};
}

function listPoliciesForRole(ctx: ActionContext): ResponseBody {
  const { state } = ctx;
  const role = state.requireRole(roleName(ctx.params));
  return {
    Policies: {
      Policy: role.policies.map((a) => {
        const policy = state.resolvePolicy(a.type, a.name);
        return {
          AttachDate: a.attachDate,
          DefaultVersion: policy?.defaultVersion ?? 'v1',
          Description: policy?.description ?? '',
          PolicyName: a.name,
          PolicyType: a.type,
        };
      }),
    },
  };
}

const role = (ctx: ActionContext): string => ramResource(ctx, 'role', 'RoleName');

export const ROLE_ACTIONS: ActionSpec[] = defineActions('ram', 'ram', {
  CreateRole: { write: true, resource: role, handler: createRole },
  GetRole: { write: false, resource: role, handler: getRole },
  UpdateRole: { write: true, resource: role, handler: updateRole },
  DeleteRole: { write: true, resource: role, handler: deleteRole },
  ListRoles: { write: false, handler: listRoles },
  AttachPolicyToRole: { write: true, resource: role, handler: attachPolicyToRole },
  DetachPolicyFromRole: { write: true, resource: role, handler: detachPolicyFromRole },
  ListPoliciesForRole: { write: false, resource: role, handler: listPoliciesForRole },
});
