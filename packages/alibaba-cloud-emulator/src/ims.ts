import {
  type ActionContext,
  type ActionSpec,
  defineActions,
  ramResource,
  type ResponseBody,
} from './context.ts';
import {
  ApiError,
  conflict,
  limitExceeded,
  oidcProviderExists,
  paramInvalid,
  paramInvalidChars,
  paramLength,
} from './errors.ts';
import { isoSeconds } from './ids.ts';
import type { Params } from './params.ts';
import { page } from './ram-roles.ts';
import type { EmulatorState, OidcProviderRecord } from './state.ts';

/**
 * IMS 2019-08-15 OIDC providers (reference §5). Policies grant these as `ram:<Action>` (the
 * IMS API reference lists `ram:CreateOIDCProvider`). No IMS error table was found: every code
 * below that is not the generic parameter family is [unconfirmed].
 */

const PROVIDER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const FINGERPRINT = /^[0-9a-fA-F]{40}$/;

function providerName(params: Params): string {
  const name = params.bounded('OIDCProviderName', 128, true) as string;
  if (!PROVIDER_NAME.test(name)) throw paramInvalidChars('OIDCProviderName');
  return name;
}

function issuerUrl(params: Params): string {
  const url = params.bounded('IssuerUrl', 255, true) as string;
  if (!url.startsWith('https://') || /[?@#]/.test(url) || url.length <= 'https://'.length) {
    throw paramInvalid('IssuerUrl', 'must be an https URL without "?", "@" or "#".');
  }
  return url;
}

function commaList(value: string | undefined): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    ),
  ];
}

function checkClientIds(state: EmulatorState, ids: string[]): string[] {
  if (ids.some((id) => id.length > 128)) throw paramLength('ClientIds');
  if (ids.length > state.quotas.clientIdsPerProvider) {
    throw limitExceeded('LimitExceeded.OIDCProvider.ClientId', 'client ids');
  }
  return ids;
}

function checkFingerprints(state: EmulatorState, prints: string[]): string[] {
  if (prints.some((p) => !FINGERPRINT.test(p))) {
    throw paramInvalid('Fingerprints', 'must be SHA-1 hex digests.');
  }
  if (prints.length > state.quotas.fingerprintsPerProvider) {
    throw limitExceeded('LimitExceeded.OIDCProvider.Fingerprint', 'fingerprints');
  }
  return prints.map((p) => p.toLowerCase());
}

function view(state: EmulatorState, p: OidcProviderRecord): ResponseBody {
  return {
    Arn: state.oidcProviderArn(p.name),
    ClientIds: p.clientIds.join(','),
    CreateDate: isoSeconds(p.createMs),
    Description: p.description,
    Fingerprints: p.fingerprints.join(','),
    GmtCreate: String(p.createMs),
    GmtModified: String(p.updateMs),
    IssuanceLimitTime: p.issuanceLimitTime,
    IssuerUrl: p.issuerUrl,
    OIDCProviderName: p.name,
    UpdateDate: isoSeconds(p.updateMs),
  };
}

function createProvider(ctx: ActionContext): ResponseBody {
  const { params, state } = ctx;
  const name = providerName(params);
  const issuer = issuerUrl(params);
  const clientIds = checkClientIds(state, commaList(params.optional('ClientIds')));
  const fingerprints = checkFingerprints(state, commaList(params.optional('Fingerprints')));
  const limit = params.integer('IssuanceLimitTime', 1, 168, 12);
  const description = params.bounded('Description', 256, false) ?? '';
  if (state.oidcProviders.has(name.toLowerCase())) throw oidcProviderExists(name);
  if ([...state.oidcProviders.values()].some((p) => p.issuerUrl === issuer)) {
    throw conflict(
      'EntityAlreadyExists.OIDCProvider.IssuerUrl',
      `An OIDC provider with the issuer URL already exists: ${issuer}.`,
    );
  }
  if (state.oidcProviders.size >= state.quotas.oidcProviders) {
    throw limitExceeded('LimitExceeded.OIDCProvider', 'OIDC providers');
  }
  const now = ctx.clock.now();
  const provider: OidcProviderRecord = {
    seq: state.nextSeq(),
    name,
    issuerUrl: issuer,
    clientIds,
    fingerprints,
    issuanceLimitTime: limit,
    description,
    createMs: now,
    updateMs: now,
  };
  state.oidcProviders.set(name.toLowerCase(), provider);
  return { OIDCProvider: view(state, provider) };
}

function getProvider(ctx: ActionContext): ResponseBody {
  return { OIDCProvider: view(ctx.state, ctx.state.requireOidcProvider(providerName(ctx.params))) };
}

function updateProvider(ctx: ActionContext): ResponseBody {
  const { params, state } = ctx;
  const provider = state.requireOidcProvider(providerName(params));
  const clientIds = params.optional('ClientIds');
  const description = params.bounded('NewDescription', 256, false);
  if (clientIds !== undefined) provider.clientIds = checkClientIds(state, commaList(clientIds));
  if (params.optional('IssuanceLimitTime') !== undefined) {
    provider.issuanceLimitTime = params.integer('IssuanceLimitTime', 1, 168, 12);
  }
  if (description !== undefined) provider.description = description;
  provider.updateMs = ctx.clock.now();
  return { OIDCProvider: view(state, provider) };
}

function deleteProvider(ctx: ActionContext): ResponseBody {
  const provider = ctx.state.requireOidcProvider(providerName(ctx.params));
  ctx.state.oidcProviders.delete(provider.name.toLowerCase());
  return {};
}

function listProviders(ctx: ActionContext): ResponseBody {
  const { items, marker } = page(ctx.params, [...ctx.state.oidcProviders.values()]);
  return {
    IsTruncated: marker !== undefined,
    ...(marker ? { Marker: marker } : {}),
    OIDCProviders: { OIDCProvider: items.map((p) => view(ctx.state, p)) },
  };
}

type ListField = 'clientIds' | 'fingerprints';

/** Add/Remove one entry of a provider's client ids or fingerprints. */
function editList(field: ListField, param: string, add: boolean) {
  return (ctx: ActionContext): ResponseBody => {
    const { params, state } = ctx;
    const provider = state.requireOidcProvider(providerName(params));
    const raw = params.required(param);
    const value = field === 'fingerprints' ? (checkFingerprints(state, [raw])[0] ?? raw) : raw;
    if (field === 'clientIds') checkClientIds(state, [value]);
    const present = provider[field].includes(value);
    const entity = field === 'clientIds' ? 'ClientId' : 'Fingerprint';
    if (add && present) {
      throw conflict(`EntityAlreadyExists.OIDCProvider.${entity}`, `The ${entity} already exists.`);
    }
    if (!add && !present) {
      throw new ApiError(
        `EntityNotExist.OIDCProvider.${entity}`,
        404,
        `The ${entity} does not exist.`,
      );
    }
    const next = add ? [...provider[field], value] : provider[field].filter((v) => v !== value);
    provider[field] =
      field === 'clientIds' ? checkClientIds(state, next) : checkFingerprints(state, next);
    provider.updateMs = ctx.clock.now();
    return { OIDCProvider: view(state, provider) };
  };
}

const provider = (ctx: ActionContext): string =>
  ramResource(ctx, 'oidc-provider', 'OIDCProviderName');

export const IMS_ACTIONS: ActionSpec[] = defineActions('ims', 'ram', {
  CreateOIDCProvider: { write: true, resource: provider, handler: createProvider },
  GetOIDCProvider: { write: false, resource: provider, handler: getProvider },
  UpdateOIDCProvider: { write: true, resource: provider, handler: updateProvider },
  DeleteOIDCProvider: { write: true, resource: provider, handler: deleteProvider },
  ListOIDCProviders: { write: false, handler: listProviders },
  AddClientIdToOIDCProvider: {
    write: true,
    resource: provider,
    handler: editList('clientIds', 'ClientId', true),
  },
  RemoveClientIdFromOIDCProvider: {
    write: true,
    resource: provider,
    handler: editList('clientIds', 'ClientId', false),
  },
  AddFingerprintToOIDCProvider: {
    write: true,
    resource: provider,
    handler: editList('fingerprints', 'Fingerprint', true),
  },
  RemoveFingerprintFromOIDCProvider: {
    write: true,
    resource: provider,
    handler: editList('fingerprints', 'Fingerprint', false),
  },
});
