import type { CoreV1Api } from '@kubernetes/client-node';
import { KubeEventSink } from './events.ts';

function sink(now: { t: number }) {
  const written: string[] = [];
  const core = {
    createNamespacedEvent: (request: { body: { reason: string; type: string } }) => {
      written.push(`${request.body.type} ${request.body.reason}`);
      return Promise.resolve({});
    },
  } as unknown as CoreV1Api;
  return {
    written,
    events: new KubeEventSink(core, { now: () => now.t, dedupeWindowMs: 600_000 }),
  };
}

const binding = {
  apiVersion: 'rrsa.dev/v1alpha1',
  kind: 'PodIdentityBinding',
  namespace: 'a',
  name: 'b',
  uid: 'u',
};

describe('KubeEventSink', () => {
  it('records every transition, even back to a state seen minutes ago', () => {
    const now = { t: 0 };
    const { written, events } = sink(now);
    events.record(binding, 'Normal', 'Bound', 'pods can assume r');
    now.t += 60_000;
    events.record(binding, 'Warning', 'GuardrailViolation', 'policy denied');
    now.t += 60_000;
    events.record(binding, 'Normal', 'Bound', 'pods can assume r');
    expect(written).toEqual(['Normal Bound', 'Warning GuardrailViolation', 'Normal Bound']);
  });

  it('aggregates repeats of the same state within the window, per object', () => {
    const now = { t: 0 };
    const { written, events } = sink(now);
    for (let i = 0; i < 5; i++) {
      events.record(binding, 'Warning', 'CloudRetrying', 'throttled');
      events.record({ ...binding, name: 'other' }, 'Warning', 'CloudRetrying', 'throttled');
      now.t += 1000;
    }
    expect(written).toEqual(['Warning CloudRetrying', 'Warning CloudRetrying']);
    now.t += 600_000;
    events.record(binding, 'Warning', 'CloudRetrying', 'throttled');
    expect(written).toHaveLength(3);
  });
});
