import { bindingFixture } from '../../test/support/fakes.ts';
import { readyMessage } from './reconciler.ts';

describe('Ready message', () => {
  const binding = bindingFixture();
  const arn = 'acs:ram::1234567890123456:role/demo';

  it('says pods can assume the role when the namespace opted in (or cannot be read)', () => {
    for (const optedIn of [true, undefined]) {
      const message = readyMessage(binding, arn, optedIn);
      expect(message).toBe(
        `pods of ServiceAccount ${binding.spec.serviceAccountName} can assume ${arn}`,
      );
    }
  });

  it('names the missing namespace label and the command that adds it', () => {
    const ns = binding.metadata.namespace;
    const message = readyMessage(binding, arn, false);
    expect(message).toContain(
      `namespace ${ns} is not labelled pod-identity.alibabacloud.com/injection=on`,
    );
    expect(message).toContain(
      `kubectl label namespace ${ns} pod-identity.alibabacloud.com/injection=on`,
    );
  });
});
