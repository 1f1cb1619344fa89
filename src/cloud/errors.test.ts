import { CloudError, classifyCloudError } from './errors.ts';

// Shapes as @alicloud/openapi-core 1.0.8 throws them (reference/alibaba-cloud-api.md §2.7).
function sdkError(
  name: string,
  code: string,
  statusCode: number,
  extra: Record<string, unknown> = {},
): Error {
  return Object.assign(
    new Error(`${code}: code: ${statusCode}, The role does not exist: foo. request id: RID-1`),
    {
      name,
      code,
      statusCode,
      requestId: 'RID-1',
      data: { Code: code, Message: 'The role does not exist: foo.', RequestId: 'RID-1' },
      ...extra,
    },
  );
}

describe('classifyCloudError', () => {
  it.each([
    ['ClientError', 'EntityNotExist.Role', 404, 'NotFound'],
    ['ClientError', 'EntityNotExist.Role.Policy', 404, 'NotFound'],
    ['ClientError', 'EntityNotExist.Policy', 404, 'Terminal'],
    ['ClientError', 'InvalidParameter.PolicyType', 400, 'Terminal'],
    ['ClientError', 'InvalidParameter.PolicyName.InvalidChars', 400, 'Terminal'],
    ['ClientError', 'InvalidPolicyType.NotSupported', 400, 'Terminal'],
    ['ClientError', 'Invalid.PolicyType', 400, 'Terminal'],
    ['ClientError', 'EntityAlreadyExists.Role', 409, 'Conflict'],
    ['ClientError', 'DeleteConflict.Role.Policy', 409, 'Conflict'],
    ['ClientError', 'NoPermission', 403, 'Denied'],
    ['ClientError', 'InvalidParameter.RoleName.InvalidChars', 400, 'Terminal'],
    ['ClientError', 'MalformedPolicyDocument', 400, 'Terminal'],
    ['ThrottlingError', 'Throttling.User', 400, 'Throttled'],
    ['ClientError', 'Throttling.Api', 429, 'Throttled'],
    ['ServerError', 'InternalError', 500, 'Transient'],
    ['ServerError', 'ServiceUnavailable', 503, 'Throttled'],
  ])('%s %s (%i) is %s', (name, code, status, kind) => {
    const error = classifyCloudError('GetRole', sdkError(name, code, status));
    expect(error).toBeInstanceOf(CloudError);
    expect(error.kind).toBe(kind);
    expect(error.code).toBe(code);
    expect(error.requestId).toBe('RID-1');
    expect(error.message).toBe('The role does not exist: foo.');
  });

  it('keeps the server-requested retry delay of a throttling error', () => {
    const error = classifyCloudError(
      'CreateRole',
      sdkError('ThrottlingError', 'Throttling.User', 400, { retryAfter: 1500 }),
    );
    expect(error.retryAfterMs).toBe(1500);
    expect(error.retryable).toBe(true);
    expect(error.describe()).toBe(
      'CreateRole failed: Throttling.User (request id RID-1): The role does not exist: foo.',
    );
  });

  it('describes itself without the request id for conditions, with it for Events', () => {
    const first = classifyCloudError(
      'AttachPolicyToRole',
      sdkError('ServerError', 'InternalError', 500),
    );
    const retry = classifyCloudError(
      'AttachPolicyToRole',
      sdkError('ServerError', 'InternalError', 500, { requestId: 'RID-2' }),
    );
    expect(first.describeStable()).toBe(
      'AttachPolicyToRole failed: InternalError: The role does not exist: foo.',
    );
    expect(retry.describeStable()).toBe(first.describeStable());
    expect(first.describeStable()).not.toContain('RID-1');
    expect(first.describe()).toContain('(request id RID-1)');
    expect(retry.describe()).toContain('(request id RID-2)');
  });

  it('treats connection failures as transient', () => {
    const error = classifyCloudError(
      'GetRole',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    );
    expect(error.kind).toBe('Transient');
    expect(error.retryable).toBe(true);
  });
});
