import {
  Observable,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

/**
 * client-node has no request timeout of its own (a hung apiserver connection waits for the OS,
 * minutes). These options make one call end when `signal` aborts: pass them as the last argument
 * of any generated API method. The middleware is appended, so it overrides the default deadline
 * that createKubeClients installs. (The object-parameter API takes Observable middleware.)
 */
export function signalOptions(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
