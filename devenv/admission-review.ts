/** An admission.k8s.io/v1 AdmissionReview of a pod CREATE, as the apiserver sends it. */
export function podCreateReview(
  pod: unknown,
  options: { namespace: string; uid?: string; extra?: Record<string, unknown> },
): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: options.namespace,
      operation: 'CREATE',
      object: pod,
      ...options.extra,
    },
  });
}
