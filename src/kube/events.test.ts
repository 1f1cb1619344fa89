import { KubeEventSink } from './events.ts';

function sink(now: { t: number }) {
  const written: string[] = [];
  const rest = {
    request: <T>(_method: string, _path: string, options: { body?: unknown } = {}): Promise<T> => {
      const body = options.body as { reason: string; type: string };
      written.push(`${body.type} ${body.reason}`);
      return Promise.resolve({} as T);
    },
  };
  return {
    written,
    events: new KubeEventSink(rest, { now: () => now.t, dedupeWindowMs: 600_000 }),
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
