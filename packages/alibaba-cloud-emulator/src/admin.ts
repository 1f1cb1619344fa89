import type { Service } from './context.ts';
import type { EmulatorControls, RamUserSpec } from './controls.ts';
import type { FaultSpec } from './faults.ts';
import type { RequestFilter } from './recorder.ts';
import { ApiError } from './errors.ts';
import type { RawRequest, RawResponse } from './server.ts';
import type { PolicyType } from './state.ts';

/**
 * The admin endpoints under `/__emulator/` (never an Alibaba path, so never confused with an
 * API call). JSON in, JSON out; documented in the package README.md.
 */

export const ADMIN_PREFIX = '/__emulator';

type Json = Record<string, unknown>;

interface AdminRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Json;
}

class AdminError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function ok(body: unknown, status = 200): RawResponse {
  return { status, headers: {}, body };
}

function filterFrom(query: URLSearchParams): RequestFilter {
  const bool = (name: string): boolean | undefined =>
    query.has(name) ? query.get(name) === 'true' : undefined;
  const since = query.get('since');
  return {
    ...(query.get('action') ? { action: query.get('action') as string } : {}),
    ...(query.get('service') ? { service: query.get('service') as Service } : {}),
    ...(bool('write') !== undefined ? { write: bool('write') } : {}),
    ...(bool('failed') !== undefined ? { failed: bool('failed') } : {}),
    ...(since ? { since: Number(since) } : {}),
  };
}

function requireString(body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new AdminError(400, `"${field}" must be a non-empty string`);
  }
  return value;
}

function faultRoutes(req: AdminRequest, controls: EmulatorControls): RawResponse | undefined {
  const { faults } = controls;
  if (req.path === '/faults' && req.method === 'GET') return ok({ faults: faults.list() });
  if (req.path === '/faults' && req.method === 'POST') {
    return ok(faults.add(req.body), 201);
  }
  if (req.path === '/faults' && req.method === 'DELETE') {
    faults.clear();
    return ok({ ok: true });
  }
  if (req.path.startsWith('/faults/') && req.method === 'DELETE') {
    const removed = faults.remove(decodeURIComponent(req.path.slice('/faults/'.length)));
    if (!removed) throw new AdminError(404, 'no such fault');
    return ok({ ok: true });
  }
  if (req.path === '/throttle' && req.method === 'POST') {
    const { action, ...rest } = req.body as FaultSpec;
    return ok(faults.throttle(action ?? '*', rest), 201);
  }
  return undefined;
}

function issuerRoutes(req: AdminRequest, controls: EmulatorControls): RawResponse | undefined {
  if (req.path === '/issuers' && req.method === 'GET') return ok(controls.issuerOverrides());
  if (req.path === '/issuers' && req.method === 'PUT') {
    const { issuer, ...override } = req.body;
    if (typeof issuer !== 'string') throw new AdminError(400, '"issuer" must be a string');
    controls.setIssuerOverride(issuer, override);
    return ok({ ok: true });
  }
  if (req.path === '/issuers' && req.method === 'DELETE') {
    controls.setIssuerOverride(req.query.get('issuer') ?? '', undefined);
    return ok({ ok: true });
  }
  return undefined;
}

function policyRef(body: Json): { name: string; type: PolicyType } {
  return { name: requireString(body, 'name'), type: body.type === 'System' ? 'System' : 'Custom' };
}

function principalRoutes(req: AdminRequest, controls: EmulatorControls): RawResponse | undefined {
  const rolePolicies = /^\/roles\/([^/]+)\/policies$/.exec(req.path);
  if (rolePolicies && (req.method === 'POST' || req.method === 'DELETE')) {
    const role = decodeURIComponent(rolePolicies[1] ?? '');
    const { name, type } = policyRef(req.body);
    const account = req.query.get('account') ?? undefined;
    if (req.method === 'POST') controls.attachPolicy(role, name, type, account);
    else controls.detachPolicy(role, name, type, account);
    return ok({ ok: true });
  }
  if (req.path === '/users' && req.method === 'POST') {
    const user = controls.addUser(req.body as unknown as RamUserSpec);
    return ok({ name: user.name, userId: user.userId, accessKeyId: user.accessKeyId }, 201);
  }
  const policies = /^\/users\/([^/]+)\/policies$/.exec(req.path);
  if (policies && req.method === 'PUT') {
    const list = req.body.policies as { type: PolicyType; name: string }[] | undefined;
    controls.setUserPolicies(decodeURIComponent(policies[1] ?? ''), list ?? []);
    return ok({ ok: true });
  }
  if (req.path === '/access-keys' && req.method === 'POST') {
    controls.addAccessKey(
      requireString(req.body, 'accessKeyId'),
      requireString(req.body, 'accessKeySecret'),
    );
    return ok({ ok: true }, 201);
  }
  return undefined;
}

function coreRoutes(
  req: AdminRequest,
  controls: EmulatorControls,
  info: () => Json,
): RawResponse | undefined {
  const route = `${req.method} ${req.path}`;
  switch (route) {
    case 'GET /health':
      return ok({ ok: true, ...info() });
    case 'GET /ca': {
      const ca = info().caPem;
      if (typeof ca !== 'string') throw new AdminError(404, 'HTTPS is off: no CA');
      return ok(ca);
    }
    case 'GET /state':
      return ok(controls.dump(req.query.get('account') ?? undefined));
    case 'GET /accounts':
      return ok({ accounts: controls.accountIds() });
    case 'POST /reset':
      controls.reset();
      return ok({ ok: true });
    case 'GET /requests':
      return ok({ requests: controls.requests(filterFrom(req.query)) });
    case 'DELETE /requests':
      controls.resetLog();
      return ok({ ok: true });
    case 'GET /counters':
      return ok(controls.counters());
    case 'POST /clock': {
      const seconds = Number(req.body.advanceSeconds);
      if (!Number.isFinite(seconds)) throw new AdminError(400, '"advanceSeconds" must be a number');
      controls.advanceTime(seconds);
      return ok({ ok: true });
    }
    default:
      return undefined;
  }
}

export function handleAdmin(
  raw: RawRequest,
  controls: EmulatorControls,
  info: () => Json,
): RawResponse {
  const url = new URL(raw.url, 'http://emulator');
  try {
    const text = raw.body.toString('utf8');
    const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AdminError(400, 'the body must be a JSON object');
    }
    const req: AdminRequest = {
      method: raw.method.toUpperCase(),
      path: url.pathname.slice(ADMIN_PREFIX.length) || '/',
      query: url.searchParams,
      body: parsed as Json,
    };
    const response =
      coreRoutes(req, controls, info) ??
      faultRoutes(req, controls) ??
      issuerRoutes(req, controls) ??
      principalRoutes(req, controls);
    return response ?? ok({ error: `no admin route ${req.method} ${req.path}` }, 404);
  } catch (error) {
    if (error instanceof ApiError)
      return ok({ error: error.message, code: error.code }, error.status);
    const status = error instanceof AdminError ? error.status : 400;
    return ok({ error: (error as Error).message }, status);
  }
}
