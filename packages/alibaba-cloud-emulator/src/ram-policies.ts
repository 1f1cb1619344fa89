import {
  type ActionContext,
  type ActionSpec,
  defineActions,
  ramResource,
  type ResponseBody,
} from './context.ts';
import {
  conflict,
  limitExceeded,
  paramLength,
  policyExists,
  policyVersionNotFound,
} from './errors.ts';
import { isoSeconds } from './ids.ts';
import { parseTags, POLICY_NAME_CHARS, type Params } from './params.ts';
import { parsePolicyDocument } from './policy-document.ts';
import { page } from './ram-roles.ts';
import { applyTags, matchesTagFilter, tagList } from './ram-tags.ts';
import {
  type CustomPolicyRecord,
  defaultVersionOf,
  type EmulatorState,
  type PolicyType,
  type PolicyVersionRecord,
  type ResolvedPolicy,
} from './state.ts';
import { SYSTEM_POLICIES } from './system-policies.ts';

/** Custom policies, their versions, and the System catalogue (reference §3). */

const MAX_DOCUMENT = 6144;

function policyName(params: Params): string {
  return params.name('PolicyName', 128, POLICY_NAME_CHARS) as string;
}

function policyType(params: Params): PolicyType {
  return params.oneOf('PolicyType', ['System', 'Custom'] as const) as PolicyType;
}

function policyDocument(params: Params): string {
  const text = params.required('PolicyDocument');
  if (text.length > MAX_DOCUMENT) throw paramLength('PolicyDocument');
  parsePolicyDocument(text, 'permission');
  return text;
}

function versionView(policy: { defaultVersion: string }, v: PolicyVersionRecord): ResponseBody {
  return {
    CreateDate: v.createDate,
    IsDefaultVersion: v.versionId === policy.defaultVersion,
    PolicyDocument: v.document,
    VersionId: v.versionId,
  };
}

/** A System policy's single (current) version. */
function systemVersion(policy: ResolvedPolicy): PolicyVersionRecord {
  return {
    versionId: policy.defaultVersion,
    document: policy.document,
    createDate: policy.updateDate,
  };
}

function versionsOf(state: EmulatorState, type: PolicyType, name: string): PolicyVersionRecord[] {
  if (type === 'Custom') return state.requireCustomPolicy(name).versions;
  return [systemVersion(state.requirePolicy('System', name))];
}

function createPolicy(ctx: ActionContext): ResponseBody {
  const { params, state } = ctx;
  const name = policyName(params);
  const document = policyDocument(params);
  const description = params.bounded('Description', 1024, false) ?? '';
  const tags = parseTags(params, 'Tag', state.quotas.tagsPerResource);
  if (state.findCustomPolicy(name)) throw policyExists(name);
  if (state.policies.size >= state.quotas.customPolicies) {
    throw limitExceeded('LimitExceeded.Policy', 'custom policies');
  }
  const now = isoSeconds(ctx.clock.now());
  const policy: CustomPolicyRecord = {
    seq: state.nextSeq(),
    name,
    description,
    createDate: now,
    updateDate: now,
    versions: [{ versionId: 'v1', document, createDate: now }],
    defaultVersion: 'v1',
    nextVersion: 2,
    tags: new Map(),
  };
  applyTags(policy.tags, tags, state.quotas.tagsPerResource);
  state.policies.set(name.toLowerCase(), policy);
  return {
    Policy: {
      CreateDate: now,
      DefaultVersion: 'v1',
      Description: description,
      PolicyName: name,
      PolicyType: 'Custom',
    },
  };
}

function getPolicy(ctx: ActionContext): ResponseBody {
  const type = policyType(ctx.params);
  const policy = ctx.state.requirePolicy(type, policyName(ctx.params));
  const version =
    type === 'Custom'
      ? defaultVersionOf(ctx.state.requireCustomPolicy(policy.name))
      : systemVersion(policy);
  return {
    Policy: {
      AttachmentCount: ctx.state.attachmentCount(type, policy.name),
      CreateDate: policy.createDate,
      DefaultVersion: policy.defaultVersion,
      Description: policy.description,
      PolicyDocument: policy.document,
      PolicyName: policy.name,
      PolicyType: policy.type,
      UpdateDate: policy.updateDate,
    },
    DefaultPolicyVersion: versionView(policy, version),
  };
}

function detachEverywhere(state: EmulatorState, name: string): void {
  const lower = name.toLowerCase();
  const keep = (p: { type: PolicyType; name: string }): boolean =>
    !(p.type === 'Custom' && p.name.toLowerCase() === lower);
  for (const role of state.roles.values()) role.policies = role.policies.filter(keep);
  for (const user of state.users.values()) user.policies = user.policies.filter(keep);
}

function deletePolicy(ctx: ActionContext): ResponseBody {
  const { state } = ctx;
  const policy = state.requireCustomPolicy(policyName(ctx.params));
  const cascade = ctx.params.boolean('CascadingDelete');
  if (!cascade) {
    const lower = policy.name.toLowerCase();
    const holds = (h: { policies: { type: PolicyType; name: string }[] }): boolean =>
      h.policies.some((p) => p.type === 'Custom' && p.name.toLowerCase() === lower);
    // [unconfirmed] which code DeletePolicy uses for a role attachment (see reference §3).
    if ([...state.roles.values()].some(holds)) {
      throw conflict('DeleteConflict.Role.Policy', 'The policy is still attached to a role.');
    }
    if ([...state.users.values()].some(holds)) {
      throw conflict('DeleteConflict.Policy.User', 'The policy is still attached to a user.');
    }
    if (policy.versions.length > 1) {
      throw conflict('DeleteConflict.Policy.Version', 'The policy has non-default versions.');
    }
  }
  detachEverywhere(state, policy.name);
  state.policies.delete(policy.name.toLowerCase());
  return {};
}

function createPolicyVersion(ctx: ActionContext): ResponseBody {
  const { params, state } = ctx;
  const policy = state.requireCustomPolicy(policyName(params));
  const document = policyDocument(params);
  const setAsDefault = params.boolean('SetAsDefault');
  const rotate = params.oneOf(
    'RotateStrategy',
    ['None', 'DeleteOldestNonDefaultVersionWhenLimitExceeded'] as const,
    false,
  );
  if (policy.versions.length >= state.quotas.policyVersions) {
    const oldest = policy.versions.find((v) => v.versionId !== policy.defaultVersion);
    if (rotate !== 'DeleteOldestNonDefaultVersionWhenLimitExceeded' || !oldest) {
      throw limitExceeded('LimitExceeded.Policy.Version', 'policy versions');
    }
    policy.versions = policy.versions.filter((v) => v !== oldest);
  }
  const now = isoSeconds(ctx.clock.now());
  const version = { versionId: `v${policy.nextVersion++}`, document, createDate: now };
  policy.versions.push(version);
  if (setAsDefault) policy.defaultVersion = version.versionId;
  policy.updateDate = now;
  return { PolicyVersion: versionView(policy, version) };
}

function findVersion(versions: PolicyVersionRecord[], id: string): PolicyVersionRecord {
  const version = versions.find((v) => v.versionId === id);
  if (!version) throw policyVersionNotFound(id);
  return version;
}

function listPolicyVersions(ctx: ActionContext): ResponseBody {
  const type = policyType(ctx.params);
  const name = policyName(ctx.params);
  const policy = ctx.state.requirePolicy(type, name);
  const versions = versionsOf(ctx.state, type, name);
  return { PolicyVersions: { PolicyVersion: versions.map((v) => versionView(policy, v)) } };
}

function getPolicyVersion(ctx: ActionContext): ResponseBody {
  const type = policyType(ctx.params);
  const name = policyName(ctx.params);
  const policy = ctx.state.requirePolicy(type, name);
  const version = findVersion(versionsOf(ctx.state, type, name), ctx.params.required('VersionId'));
  return { PolicyVersion: versionView(policy, version) };
}

function deletePolicyVersion(ctx: ActionContext): ResponseBody {
  const policy = ctx.state.requireCustomPolicy(policyName(ctx.params));
  const version = findVersion(policy.versions, ctx.params.required('VersionId'));
  if (version.versionId === policy.defaultVersion) {
    throw conflict(
      'DeleteConflict.Policy.Version.Default',
      'The default version of the policy can not be deleted.',
    );
  }
  policy.versions = policy.versions.filter((v) => v !== version);
  return {};
}

function setDefaultPolicyVersion(ctx: ActionContext): ResponseBody {
  const policy = ctx.state.requireCustomPolicy(policyName(ctx.params));
  const version = findVersion(policy.versions, ctx.params.required('VersionId'));
  policy.defaultVersion = version.versionId;
  policy.updateDate = isoSeconds(ctx.clock.now());
  return {};
}

interface ListedPolicy {
  seq: number;
  policy: ResolvedPolicy;
  tags: Map<string, string>;
}

function listPolicies(ctx: ActionContext): ResponseBody {
  const { params, state } = ctx;
  const type = params.oneOf('PolicyType', ['System', 'Custom'] as const, false);
  const filter = parseTags(params, 'Tag', 20);
  // System policies sort before custom ones: they get the negative sequence numbers.
  const system: ListedPolicy[] = SYSTEM_POLICIES.map((p, i) => ({
    seq: i - SYSTEM_POLICIES.length,
    policy: state.requirePolicy('System', p.name),
    tags: new Map(),
  }));
  const custom: ListedPolicy[] = [...state.policies.values()].map((p) => ({
    seq: p.seq,
    policy: state.requirePolicy('Custom', p.name),
    tags: p.tags,
  }));
  const all = [...(type === 'Custom' ? [] : system), ...(type === 'System' ? [] : custom)];
  const shifted = all
    .filter((p) => matchesTagFilter(p.tags, filter))
    .map((p) => ({ ...p, seq: p.seq + SYSTEM_POLICIES.length + 1 }));
  const { items, marker } = page(params, shifted);
  return {
    IsTruncated: marker !== undefined,
    ...(marker ? { Marker: marker } : {}),
    Policies: {
      Policy: items.map(({ policy, tags }) => ({
        AttachmentCount: state.attachmentCount(policy.type, policy.name),
        CreateDate: policy.createDate,
        DefaultVersion: policy.defaultVersion,
        Description: policy.description,
        PolicyName: policy.name,
        PolicyType: policy.type,
        Tags: { Tag: tagList(tags) },
        UpdateDate: policy.updateDate,
      })),
    },
  };
}

function listEntitiesForPolicy(ctx: ActionContext): ResponseBody {
  const { state } = ctx;
  const type = policyType(ctx.params);
  const policy = state.requirePolicy(type, policyName(ctx.params));
  const lower = policy.name.toLowerCase();
  const attachment = (h: { policies: { type: PolicyType; name: string; attachDate: string }[] }) =>
    h.policies.find((p) => p.type === type && p.name.toLowerCase() === lower);
  const roles = [...state.roles.values()].flatMap((r) => {
    const a = attachment(r);
    if (!a) return [];
    const view = {
      Arn: state.roleArn(r.roleName),
      AttachDate: a.attachDate,
      Description: r.description,
      RoleId: r.roleId,
      RoleName: r.roleName,
    };
    return [view];
  });
  const users = [...state.users.values()].flatMap((u) => {
    const a = attachment(u);
    if (!a) return [];
    return [{ AttachDate: a.attachDate, DisplayName: u.name, UserId: u.userId, UserName: u.name }];
  });
  return { Roles: { Role: roles }, Users: { User: users }, Groups: { Group: [] } };
}

const policy = (ctx: ActionContext): string => ramResource(ctx, 'policy', 'PolicyName');

export const POLICY_ACTIONS: ActionSpec[] = defineActions('ram', 'ram', {
  CreatePolicy: { write: true, resource: policy, handler: createPolicy },
  GetPolicy: { write: false, resource: policy, handler: getPolicy },
  DeletePolicy: { write: true, resource: policy, handler: deletePolicy },
  ListPolicies: { write: false, handler: listPolicies },
  CreatePolicyVersion: { write: true, resource: policy, handler: createPolicyVersion },
  ListPolicyVersions: { write: false, resource: policy, handler: listPolicyVersions },
  GetPolicyVersion: { write: false, resource: policy, handler: getPolicyVersion },
  DeletePolicyVersion: { write: true, resource: policy, handler: deletePolicyVersion },
  SetDefaultPolicyVersion: { write: true, resource: policy, handler: setDefaultPolicyVersion },
  ListEntitiesForPolicy: { write: false, resource: policy, handler: listEntitiesForPolicy },
});
