import {
  type ActionContext,
  type ActionSpec,
  defineActions,
  type ResponseBody,
} from './context.ts';
import { limitExceeded, paramInvalid, policyNotFound } from './errors.ts';
import { parseTags, type TagInput } from './params.ts';

/**
 * RAM tagging: TagResources / UntagResources / ListTagResources over roles and custom
 * policies (reference §3), plus the helpers CreateRole, CreatePolicy and ListRoles share.
 */

/** Adds or overwrites tags; more than `limit` keys on one resource is refused. */
export function applyTags(target: Map<string, string>, tags: TagInput[], limit: number): void {
  const next = new Map(target);
  for (const tag of tags) next.set(tag.key, tag.value ?? '');
  // [unconfirmed] code for too many tags on one resource.
  if (next.size > limit) throw limitExceeded('LimitExceeded.Tag', 'tags on the resource');
  target.clear();
  for (const [k, v] of next) target.set(k, v);
}

/** Every filter tag present (and equal, when the filter gives a value). */
export function matchesTagFilter(tags: Map<string, string>, filter: TagInput[]): boolean {
  return filter.every(
    (f) => tags.has(f.key) && (f.value === undefined || tags.get(f.key) === f.value),
  );
}

export function tagList(tags: Map<string, string>): { TagKey: string; TagValue: string }[] {
  return [...tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

type ResourceType = 'role' | 'policy';

interface Taggable {
  name: string;
  tags: Map<string, string>;
  seq: number;
}

function resourceType(ctx: ActionContext): ResourceType {
  return ctx.params.oneOf('ResourceType', ['role', 'policy'] as const) as ResourceType;
}

function allOfType(ctx: ActionContext, type: ResourceType): Taggable[] {
  if (type === 'role') {
    return [...ctx.state.roles.values()].map((r) => ({
      name: r.roleName,
      tags: r.tags,
      seq: r.seq,
    }));
  }
  return [...ctx.state.policies.values()].map((p) => ({ name: p.name, tags: p.tags, seq: p.seq }));
}

function requireResource(ctx: ActionContext, type: ResourceType, name: string): Taggable {
  if (type === 'role') {
    const role = ctx.state.requireRole(name);
    return { name: role.roleName, tags: role.tags, seq: role.seq };
  }
  const policy = ctx.state.findCustomPolicy(name);
  if (!policy) throw policyNotFound(name);
  return { name: policy.name, tags: policy.tags, seq: policy.seq };
}

function resourceNames(ctx: ActionContext, required: boolean): string[] | undefined {
  const names = ctx.params.stringArray('ResourceNames');
  if (names === undefined) return required ? [ctx.params.required('ResourceNames')] : undefined;
  if (names.length === 0 && required) throw paramInvalid('ResourceNames', 'must not be empty.');
  if (names.length > 50) throw paramInvalid('ResourceNames', 'allows at most 50 names.');
  return names;
}

function tagResources(ctx: ActionContext): ResponseBody {
  const type = resourceType(ctx);
  const names = resourceNames(ctx, true) ?? [];
  const tags = parseTags(ctx.params, 'Tag', ctx.state.quotas.tagsPerResource);
  if (tags.length === 0) ctx.params.required('Tag');
  // Resolve everything first: one missing resource fails the call without a partial write.
  const resources = names.map((n) => requireResource(ctx, type, n));
  for (const resource of resources) {
    const probe = new Map(resource.tags);
    applyTags(probe, tags, ctx.state.quotas.tagsPerResource);
  }
  for (const resource of resources)
    applyTags(resource.tags, tags, ctx.state.quotas.tagsPerResource);
  return {};
}

function untagResources(ctx: ActionContext): ResponseBody {
  const type = resourceType(ctx);
  const names = resourceNames(ctx, true) ?? [];
  const all = ctx.params.boolean('All');
  const keys = ctx.params.stringArray('TagKeys') ?? [];
  if (!all && keys.length === 0) ctx.params.required('TagKeys');
  const resources = names.map((n) => requireResource(ctx, type, n));
  for (const resource of resources) {
    if (all) resource.tags.clear();
    else for (const key of keys) resource.tags.delete(key);
  }
  return {};
}

const TOKEN_PREFIX = 'tags:';

function listTagResources(ctx: ActionContext): ResponseBody {
  const type = resourceType(ctx);
  const names = resourceNames(ctx, false);
  const filter = parseTags(ctx.params, 'Tag', 20);
  const pageSize = ctx.params.integer('PageSize', 1, 1000, 50);
  const tokenText = ctx.params.optional('NextToken');
  const start = tokenText
    ? Number(Buffer.from(tokenText, 'base64').toString().slice(TOKEN_PREFIX.length))
    : 0;
  if (!Number.isInteger(start) || start < 0) throw paramInvalid('NextToken');
  // [unconfirmed]: names that do not exist are skipped rather than refused.
  const wanted = names?.map((n) => n.toLowerCase());
  const resources = allOfType(ctx, type)
    .filter((r) => !wanted || wanted.includes(r.name.toLowerCase()))
    .filter((r) => matchesTagFilter(r.tags, filter))
    .sort((a, b) => a.seq - b.seq);
  const rows = resources.flatMap((r) =>
    [...r.tags].map(([TagKey, TagValue]) => ({
      ResourceName: r.name,
      ResourceType: type,
      TagKey,
      TagValue,
    })),
  );
  const slice = rows.slice(start, start + pageSize);
  const more = start + pageSize < rows.length;
  return {
    ...(more
      ? { NextToken: Buffer.from(`${TOKEN_PREFIX}${start + pageSize}`).toString('base64') }
      : {}),
    TagResources: slice,
  };
}

export const TAG_ACTIONS: ActionSpec[] = defineActions('ram', 'ram', {
  TagResources: { write: true, handler: tagResources },
  UntagResources: { write: true, handler: untagResources },
  ListTagResources: { write: false, handler: listTagResources },
});
