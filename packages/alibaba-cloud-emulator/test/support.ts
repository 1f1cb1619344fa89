import * as ImsModule from '@alicloud/ims20190815';
import * as RamModule from '@alicloud/ram20150501';
import * as StsModule from '@alicloud/sts20150401';
import { createSdkClients, type SdkClients } from '../../../src/cloud/sdk-clients.ts';
import type { AccessKey, RunningEmulator } from '../src/index.ts';

/** Shared helpers of the emulator tests: real SDK clients pointed at a running emulator. */

export { ImsModule as $Ims, RamModule as $Ram, StsModule as $Sts };

export function clientsFor(
  emulator: RunningEmulator,
  key: AccessKey & { securityToken?: string } = emulator.rootKey,
): SdkClients {
  return createSdkClients(
    {
      region: 'cn-hangzhou',
      ram: emulator.endpoint,
      sts: emulator.endpoint,
      ims: emulator.endpoint,
      protocol: 'http',
    },
    key,
  );
}

/** The fields of an @alicloud SDK error the tests assert on. */
export interface SdkError {
  name: string;
  code: string;
  statusCode: number;
  message: string;
  data: Record<string, unknown>;
  accessDeniedDetail?: Record<string, unknown>;
  retryAfter?: number;
}

/** The error a call rejects with; fails the test when it resolves. */
export async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

export const TRUST_ROOT = JSON.stringify({
  Version: '1',
  Statement: [
    {
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { RAM: ['acs:ram::1234567890123456:root'] },
    },
  ],
});

export function permission(action: string | string[], effect = 'Allow'): string {
  return JSON.stringify({
    Version: '1',
    Statement: [{ Effect: effect, Action: action, Resource: '*' }],
  });
}
