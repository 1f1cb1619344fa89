// The names below are the ack-pod-identity-webhook contract (DESIGN.md "Pod injection"): pods
// mutated by this webhook must be indistinguishable from pods mutated by Alibaba's add-on.

const PREFIX = 'pod-identity.alibabacloud.com';

/** Namespace label or pod label; `on` opts in, `off` on the pod opts out. */
export const INJECTION_LABEL = `${PREFIX}/injection`;
/**
 * rrsa-operator's own ServiceAccount annotations for a role in another account (AccountMapping):
 * the full role and provider ARNs, injected instead of the ones derived from the cluster account.
 */
export const ROLE_ARN_ANNOTATION = 'rrsa.dev/role-arn';
export const OIDC_PROVIDER_ARN_ANNOTATION = 'rrsa.dev/oidc-provider-arn';
/** ServiceAccount annotation naming the RAM role (a name, not an ARN). */
export const ROLE_NAME_ANNOTATION = `${PREFIX}/role-name`;
/** Pod or ServiceAccount annotation; the pod's beats the ServiceAccount's. */
export const TOKEN_EXPIRATION_ANNOTATION = `${PREFIX}/service-account-token-expiration`;
export const ONLY_CONTAINERS_ANNOTATION = `${PREFIX}/only-containers`;
export const SKIP_CONTAINERS_ANNOTATION = `${PREFIX}/skip-containers`;
/** Namespace label or pod annotation: injected values overwrite the user's own env vars. */
export const OVERRIDE_ENV_KEY = `${PREFIX}/override-env`;

export const ENV_ROLE_ARN = 'ALIBABA_CLOUD_ROLE_ARN';
export const ENV_OIDC_PROVIDER_ARN = 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN';
export const ENV_OIDC_TOKEN_FILE = 'ALIBABA_CLOUD_OIDC_TOKEN_FILE';
export const ENV_STS_ENDPOINT = 'ALIBABA_CLOUD_STS_ENDPOINT';
export const ENV_STS_REGION = 'ALIBABA_CLOUD_STS_REGION';
export const ENV_VPC_ENDPOINT_ENABLED = 'ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED';

export const TOKEN_VOLUME_NAME = 'rrsa-oidc-token';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens';
export const TOKEN_FILE_NAME = 'token';
export const TOKEN_FILE_PATH = `${TOKEN_MOUNT_PATH}/${TOKEN_FILE_NAME}`;
export const TOKEN_AUDIENCE = 'sts.aliyuncs.com';
/** 0644: readable by non-root containers without fsGroup (aws #8, Azure #156). */
export const TOKEN_VOLUME_DEFAULT_MODE = 420;

export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;
export const MAX_TOKEN_EXPIRATION_SECONDS = 43200;

/** RAM's rule for role names. */
export const ROLE_NAME_PATTERN = /^[A-Za-z0-9.-]{1,64}$/;
