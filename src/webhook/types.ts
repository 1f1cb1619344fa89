// Minimal JSON shapes of the Kubernetes objects the webhook reads. They are deliberately partial
// and never re-serialised: the webhook answers with JSON Patch ops against the raw request
// object, so any field not named here (new pod fields, native sidecars' restartPolicy, ...) is
// simply never touched. @kubernetes/client-node is not imported (see ADR 0002).

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface Container {
  name: string;
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  restartPolicy?: string;
}

export interface ServiceAccountTokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

export interface Volume {
  name: string;
  projected?: {
    defaultMode?: number;
    sources?: { serviceAccountToken?: ServiceAccountTokenProjection }[];
  };
}

export interface PodSpec {
  serviceAccountName?: string;
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

export interface ServiceAccount {
  metadata?: ObjectMeta;
}

export interface Namespace {
  metadata?: ObjectMeta;
}

/** One RFC 6902 operation; the webhook only ever emits `add` and `replace`. */
export interface JsonPatchOp {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

// admission.k8s.io/v1 (not in client-node's OpenAPI-generated models).

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: string;
  object?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  patchType?: 'JSONPatch';
  /** base64 of the JSON-encoded patch */
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: string;
  kind: string;
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}
