import { start, type RunningEmulator } from '../src/index.ts';
import { AlibabaRam } from '../../../src/cloud/alibaba-ram.ts';
import { isCloudError } from '../../../src/cloud/errors.ts';
import { $Ram, clientsFor, permission, sdkError, TRUST_ROOT } from './support.ts';
import type { SdkClients } from '../../../src/cloud/sdk-clients.ts';

/**
 * The Custom-policy calls inline policies make (src/cloud/alibaba-ram-policies.ts), through the
 * real @alicloud/ram20150501 SDK: versions, their limit, the DeletePolicy refusals, tags.
 */

let emulator: RunningEmulator;
let sdk: SdkClients['ram'];
let ram: AlibabaRam;

beforeAll(async () => {
  emulator = await start({ seed: 'policy-versions-test' });
  sdk = clientsFor(emulator).ram;
  ram = new AlibabaRam(sdk);
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.controls.reset());

const tags = { 'rrsa.dev/managed-by': 'rrsa-operator', 'rrsa.dev/binding': 'app' };

describe('Custom policy versions through @alicloud/ram20150501', () => {
  it('creates a tagged policy, finds it by its tags, and reads its default version', async () => {
    const created = await ram.createPolicy({
      name: 'inline-a',
      document: permission('oss:GetObject'),
      description: 'inline',
      tags,
    });
    expect(created.defaultVersion).toBe('v1');
    await ram.createPolicy({
      name: 'other',
      document: permission('oss:Get*'),
      description: 'x',
      tags: {},
    });
    expect(await ram.listPoliciesTagged(tags)).toEqual(['inline-a']);
    expect(await ram.listPolicyTags('inline-a')).toEqual(tags);
    expect(await ram.getCustomPolicy('inline-a')).toEqual({
      name: 'inline-a',
      defaultVersion: 'v1',
      document: permission('oss:GetObject'),
    });
    expect(await ram.getCustomPolicy('missing')).toBeUndefined();
  });

  it('refuses a sixth version with LimitExceeded.Policy.Version; set-default and deletes work by version', async () => {
    await ram.createPolicy({ name: 'p', document: permission('a:v1'), description: 'd', tags });
    for (let n = 2; n <= 5; n++) await ram.createPolicyVersion('p', permission(`a:v${n}`));
    const sixth = await sdkError(
      sdk.createPolicyVersion(
        new $Ram.CreatePolicyVersionRequest({
          policyName: 'p',
          policyDocument: permission('a:v6'),
          setAsDefault: true,
        }),
      ),
    );
    expect(sixth).toMatchObject({ code: 'LimitExceeded.Policy.Version', statusCode: 409 });
    expect((await ram.listPolicyVersions('p')).map((v) => [v.versionId, v.isDefault])).toEqual([
      ['v1', false],
      ['v2', false],
      ['v3', false],
      ['v4', false],
      ['v5', true],
    ]);
    await ram.setDefaultPolicyVersion('p', 'v2');
    expect((await ram.getCustomPolicy('p'))?.document).toBe(permission('a:v2'));
    await ram.deletePolicyVersion('p', 'v1');
    await ram.deletePolicyVersion('p', 'v1'); // already gone: succeeds
    const deletingDefault = await ram.deletePolicyVersion('p', 'v2').catch((e: unknown) => e);
    expect(isCloudError(deletingDefault) && deletingDefault.code).toBe(
      'DeleteConflict.Policy.Version.Default',
    );
  });

  it('DeletePolicy refuses while attached and while other versions exist; succeeds when gone', async () => {
    await sdk.createRole(
      new $Ram.CreateRoleRequest({ roleName: 'r', assumeRolePolicyDocument: TRUST_ROOT }),
    );
    await ram.createPolicy({ name: 'p', document: permission('a:v1'), description: 'd', tags });
    await ram.createPolicyVersion('p', permission('a:v2'));
    await ram.attachPolicy('r', { type: 'Custom', name: 'p' });
    const attached = await ram.deletePolicy('p').catch((e: unknown) => e);
    // [unconfirmed] the code real RAM uses for a role attachment (reference §3).
    expect(isCloudError(attached) && attached.code).toBe('DeleteConflict.Role.Policy');
    await ram.detachPolicy('r', { type: 'Custom', name: 'p' });
    const versioned = await ram.deletePolicy('p').catch((e: unknown) => e);
    expect(isCloudError(versioned) && versioned.code).toBe('DeleteConflict.Policy.Version');
    await ram.deletePolicyVersion('p', 'v1');
    await ram.deletePolicy('p');
    await ram.deletePolicy('p');
    expect(await ram.getCustomPolicy('p')).toBeUndefined();
  });
});
