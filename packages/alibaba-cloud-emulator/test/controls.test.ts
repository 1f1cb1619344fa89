import { AlibabaRam } from '../../../src/cloud/alibaba-ram.ts';
import { CloudError } from '../../../src/cloud/errors.ts';
import { start, type RunningEmulator } from '../src/index.ts';
import { $Ram, clientsFor, sdkError, TRUST_ROOT } from './support.ts';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await start({ seed: 'controls' });
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.controls.reset());

const ram = () => clientsFor(emulator).ram;
const getRole = (roleName = 'missing') => ram().getRole(new $Ram.GetRoleRequest({ roleName }));
const createRole = (roleName: string) =>
  ram().createRole(new $Ram.CreateRoleRequest({ roleName, assumeRolePolicyDocument: TRUST_ROOT }));

async function admin(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${emulator.url}/__emulator${path}`, {
    method: init.method ?? 'GET',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as unknown) : text };
}

describe('fault injection', () => {
  it('fails only the requests whose parameters match', async () => {
    await createRole('team-a-r');
    await createRole('team-b-r');
    const rule = emulator.controls.faults.add({
      action: 'GetRole',
      params: { RoleName: '*team-a*' },
      code: 'InternalError',
    });
    expect(await sdkError(getRole('team-a-r'))).toMatchObject({ code: 'InternalError' });
    expect((await getRole('team-b-r')).body?.role?.roleName).toBe('team-b-r');
    emulator.controls.faults.remove(rule.id);
    expect((await getRole('team-a-r')).body?.role?.roleName).toBe('team-a-r');
  });

  it('fails an action with a given code and status, a bounded number of times', async () => {
    await createRole('r');
    emulator.controls.faults.add({ action: 'GetRole', code: 'InternalError', times: 2 });
    for (let i = 0; i < 2; i++) {
      expect(await sdkError(getRole('r'))).toMatchObject({
        name: 'ServerError',
        code: 'InternalError',
        statusCode: 500,
      });
    }
    expect((await getRole('r')).body?.role?.roleName).toBe('r');
    expect(emulator.controls.faults.list()).toEqual([]);
    expect(emulator.controls.requests({ action: 'GetRole' }).map((r) => r.faulted)).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('fails about `rate` of the requests, identically for one seed', async () => {
    const pattern = async (target: RunningEmulator): Promise<string> => {
      target.controls.faults.add({ action: 'Get*', code: 'ServiceUnavailable', rate: 0.5 });
      const client = clientsFor(target).ram;
      let out = '';
      for (let i = 0; i < 40; i++) {
        const error = await sdkError(
          client.getRole(new $Ram.GetRoleRequest({ roleName: 'missing' })),
        );
        out += error.code === 'ServiceUnavailable' ? 'F' : '.';
      }
      return out;
    };
    const first = await pattern(emulator);
    const failures = first.replace(/\./g, '').length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    const twin = await start({ seed: 'controls' });
    try {
      expect(await pattern(twin)).toBe(first);
    } finally {
      await twin.stop();
    }
    const unavailable = emulator.controls.requests({ failed: true }).at(-1);
    expect(unavailable?.status).toBe(503);
  });

  it('adds latency', async () => {
    emulator.controls.faults.add({ action: 'GetRole', latencyMs: 150 });
    const started = performance.now();
    await sdkError(getRole());
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('throttles with x-acs-retry-after, which the SDK and the project adapter surface', async () => {
    await createRole('r');
    emulator.controls.faults.throttle('GetRole', { retryAfterMs: 1500, times: 1 });
    const error = await sdkError(getRole('r'));
    expect(error).toMatchObject({
      name: 'ThrottlingError',
      code: 'Throttling.User',
      retryAfter: 1500,
    });
    expect(error.data.Message).toBe('Request was denied due to user flow control.');
    emulator.controls.faults.throttle('GetRole', { retryAfterMs: 700, times: 1 });
    const adapterError = await new AlibabaRam(ram()).getRole('r').catch((e: unknown) => e);
    expect(adapterError).toBeInstanceOf(CloudError);
    expect(adapterError).toMatchObject({
      kind: 'Throttled',
      code: 'Throttling.User',
      retryAfterMs: 700,
    });
  });

  it('installs faults given at start', async () => {
    const faulty = await start({ faults: [{ action: 'ListRoles', code: 'Throttling.Api' }] });
    try {
      const error = await sdkError(clientsFor(faulty).ram.listRoles(new $Ram.ListRolesRequest({})));
      expect(error).toMatchObject({ name: 'ThrottlingError', code: 'Throttling.Api' });
    } finally {
      await faulty.stop();
    }
  });
});

describe('request log, counters, reset and dump', () => {
  it('records every API call and counts reads, writes and errors per service and action', async () => {
    await createRole('a');
    await getRole('a');
    await sdkError(getRole('nope'));
    await clientsFor(emulator).sts.getCallerIdentity();
    const counters = emulator.controls.counters();
    expect(counters).toMatchObject({ calls: 4, reads: 3, writes: 1, errors: 1 });
    expect(counters.byService.ram).toEqual({ calls: 3, reads: 2, writes: 1, errors: 1 });
    expect(counters.byAction.GetRole).toMatchObject({ calls: 2, errors: 1, write: false });
    expect(emulator.controls.count({ service: 'ram', write: true })).toBe(1);
    const failed = emulator.controls.requests({ failed: true });
    expect(failed.map((r) => [r.action, r.code, r.status])).toEqual([
      ['GetRole', 'EntityNotExist.Role', 404],
    ]);
    expect(failed[0]?.requestId).toMatch(/^[0-9A-F-]{36}$/);
    const since = emulator.controls.lastSeq();
    await getRole('a');
    expect(emulator.controls.requests({ since }).map((r) => r.action)).toEqual(['GetRole']);
  });

  it('dumps the state and resets to an empty account', async () => {
    await createRole('kept');
    emulator.controls.attachPolicy('kept', 'AliyunRAMReadOnlyAccess', 'System');
    const dump = emulator.controls.dump();
    expect(dump.roles.map((r) => [r.roleName, r.policies])).toEqual([
      ['kept', [{ type: 'System', name: 'AliyunRAMReadOnlyAccess' }]],
    ]);
    expect(dump.roles[0]?.trustPolicy).toBe(TRUST_ROOT);
    emulator.controls.reset();
    expect(emulator.controls.dump().roles).toEqual([]);
    expect(emulator.controls.counters().calls).toBe(0);
    expect((await sdkError(getRole('kept'))).code).toBe('EntityNotExist.Role');
  });

  it('gives deterministic ids for a seed', async () => {
    const ids = async (target: RunningEmulator): Promise<string[]> => {
      const res = await clientsFor(target).ram.createRole(
        new $Ram.CreateRoleRequest({ roleName: 'x', assumeRolePolicyDocument: TRUST_ROOT }),
      );
      return [res.body?.role?.roleId ?? '', res.body?.requestId ?? ''];
    };
    const a = await start({ seed: 42 });
    const b = await start({ seed: 42 });
    try {
      expect(await ids(a)).toEqual(await ids(b));
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('admin HTTP endpoint', () => {
  it('exposes health, faults, requests, counters, state, policy attachment and reset', async () => {
    expect(await admin('/health')).toMatchObject({
      status: 200,
      body: { ok: true, endpoint: emulator.endpoint },
    });
    await createRole('adm');
    const fault = await admin('/faults', {
      method: 'POST',
      body: { action: 'GetRole', code: 'Throttling.User', retryAfterMs: 250 },
    });
    expect(fault.status).toBe(201);
    expect(await sdkError(getRole('adm'))).toMatchObject({
      code: 'Throttling.User',
      retryAfter: 250,
    });
    expect((await admin('/faults')).body).toMatchObject({
      faults: [{ action: 'GetRole', fired: 1 }],
    });
    expect((await admin('/faults', { method: 'DELETE' })).status).toBe(200);
    await getRole('adm');

    expect(
      (
        await admin('/roles/adm/policies', {
          method: 'POST',
          body: { type: 'System', name: 'AliyunRAMReadOnlyAccess' },
        })
      ).status,
    ).toBe(200);
    expect(
      await admin('/roles/adm/policies', {
        method: 'POST',
        body: { type: 'System', name: 'AliyunRAMReadOnlyAccess' },
      }),
    ).toMatchObject({
      status: 409,
      body: { code: 'EntityAlreadyExists.Role.Policy' },
    });
    const state = (await admin('/state')).body as {
      roles: { roleName: string; policies: unknown[] }[];
    };
    expect(state.roles).toMatchObject([
      { roleName: 'adm', policies: [{ name: 'AliyunRAMReadOnlyAccess' }] },
    ]);
    expect(
      (
        await admin('/roles/adm/policies', {
          method: 'DELETE',
          body: { type: 'System', name: 'AliyunRAMReadOnlyAccess' },
        })
      ).status,
    ).toBe(200);

    const log = (await admin('/requests?action=GetRole')).body as { requests: { code?: string }[] };
    expect(log.requests.map((r) => r.code)).toEqual(['Throttling.User', undefined]);
    expect((await admin('/counters')).body).toMatchObject({ calls: 3, writes: 1 });
    expect((await admin('/reset', { method: 'POST' })).status).toBe(200);
    expect(((await admin('/state')).body as { roles: unknown[] }).roles).toEqual([]);
    expect((await admin('/nope')).status).toBe(404);
  });
});
