/**
 * The System policy catalogue: the Alibaba-managed policies a role can attach by name.
 *
 * AliyunRAMReadOnlyAccess (v3) and AliyunSTSAssumeRoleAccess (v1) are copied from their
 * published policy pages; the others reproduce the published shape as far as it is known
 * ([unconfirmed]: the live documents may carry more statements). Names and descriptions are
 * Alibaba's.
 */

export interface SystemPolicy {
  name: string;
  description: string;
  document: string;
  defaultVersion: string;
  createDate: string;
  updateDate: string;
}

function doc(statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '1', Statement: statements }, null, 2);
}

function allow(action: string | string[]): Record<string, unknown> {
  return { Action: action, Resource: '*', Effect: 'Allow' };
}

const CREATED = '2015-04-28T16:15:45Z';

function policy(
  name: string,
  description: string,
  document: string,
  defaultVersion = 'v1',
  updateDate = CREATED,
): SystemPolicy {
  return { name, description, document, defaultVersion, createDate: CREATED, updateDate };
}

export const SYSTEM_POLICIES: readonly SystemPolicy[] = [
  policy(
    'AdministratorAccess',
    'Provides full access to Alibaba Cloud services and resources.',
    doc([allow('*')]),
  ),
  policy(
    'AliyunRAMFullAccess',
    'Provides full access to Resource Access Management (RAM), including users, roles and permissions.',
    doc([allow('ram:*')]),
  ),
  policy(
    'AliyunRAMReadOnlyAccess',
    'Provides read-only access to Resource Access Management(RAM) via Management Console.',
    doc([
      allow(['ram:Get*', 'ram:List*', 'ram:GenerateCredentialReport']),
      allow(['accessanalyzer:Get*', 'accessanalyzer:List*']),
    ]),
    'v3',
    '2025-12-03T10:03:48Z',
  ),
  policy(
    'AliyunSTSAssumeRoleAccess',
    'Provides access to the API AssumeRole of Security Token Service(STS).',
    JSON.stringify(
      { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: '*' }], Version: '1' },
      null,
      2,
    ),
    'v1',
    '2017-04-27T16:48:07Z',
  ),
  policy(
    'AliyunCSReadOnlyAccess',
    'Provides read-only access to Container Service(CS) via Management Console.',
    doc([allow(['cs:Get*', 'cs:List*', 'cs:Describe*', 'cs:Query*', 'cs:Check*'])]),
  ),
  policy(
    'AliyunCSFullAccess',
    'Provides full access to Container Service(CS) via Management Console.',
    doc([allow('cs:*')]),
  ),
  policy(
    'AliyunOSSReadOnlyAccess',
    'Provides read-only access to Object Storage Service(OSS) via Management Console.',
    doc([allow(['oss:Get*', 'oss:List*'])]),
  ),
  policy(
    'AliyunOSSFullAccess',
    'Provides full access to Object Storage Service(OSS) via Management Console.',
    doc([allow('oss:*')]),
  ),
  policy(
    'AliyunECSReadOnlyAccess',
    'Provides read-only access to Elastic Compute Service(ECS) via Management Console.',
    doc([allow(['ecs:Describe*', 'ecs:List*'])]),
  ),
  policy(
    'AliyunLogReadOnlyAccess',
    'Provides read-only access to Log Service(Log) via Management Console.',
    doc([allow(['log:Get*', 'log:List*'])]),
  ),
  policy(
    'AliyunKMSReadOnlyAccess',
    'Provides read-only access to Key Management Service(KMS) via Management Console.',
    doc([allow(['kms:Describe*', 'kms:List*'])]),
  ),
];

const BY_NAME = new Map(SYSTEM_POLICIES.map((p) => [p.name.toLowerCase(), p]));

/** System policy names are matched case-insensitively, like every RAM name. */
export function findSystemPolicy(name: string): SystemPolicy | undefined {
  return BY_NAME.get(name.toLowerCase());
}
