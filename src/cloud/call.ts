import { classifyCloudError, type CloudError } from './errors.ts';

/** Hooks every cloud call goes through: a rate limiter before, metrics after. */
export interface CallHooks {
  /** Waits for permission to call (the global RAM rate limit). */
  beforeCall?: (service: string, action: string) => Promise<void>;
  /** code is 'OK' on success, else the Alibaba error code. */
  afterCall?: (service: string, action: string, code: string, durationMs: number) => void;
  /** Sees every classified failure (a throttled call pauses the shared rate limiter). */
  onError?: (error: CloudError) => void;
}

/** Runs one SDK call with the hooks, turning any failure into a CloudError. */
export async function callCloud<T>(
  hooks: CallHooks,
  service: string,
  action: string,
  fn: () => Promise<T>,
): Promise<T> {
  await hooks.beforeCall?.(service, action);
  const started = performance.now();
  try {
    const result = await fn();
    hooks.afterCall?.(service, action, 'OK', performance.now() - started);
    return result;
  } catch (error) {
    const cloudError = classifyCloudError(action, error);
    hooks.afterCall?.(service, action, cloudError.code, performance.now() - started);
    hooks.onError?.(cloudError);
    throw cloudError;
  }
}
