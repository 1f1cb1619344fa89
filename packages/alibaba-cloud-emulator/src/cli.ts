#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { type AccessKey, type RunningEmulator, type StartOptions, start } from './index.ts';
import type { IssuerOverride } from './jwks.ts';

/**
 * `npm run emulator -- [flags]` (or the package's `alibaba-cloud-emulator` bin): the emulator as a
 * standalone process (see this package's README.md).
 * Flags win over environment variables. Prints one JSON line when listening; stops on
 * SIGINT / SIGTERM.
 */

export const EMULATOR_USAGE = `Usage: emulator [flags]

Local Alibaba Cloud RAM / STS / IMS for the @alicloud SDKs.

  --host HOST                 listen address (RRSA_EMULATOR_HOST, default 127.0.0.1)
  --port PORT                 listen port, 0 = any (RRSA_EMULATOR_PORT, default 18080)
  --https                     also speak HTTPS on the same port (RRSA_EMULATOR_HTTPS=true)
  --ca-file FILE              write the generated CA certificate here (RRSA_EMULATOR_CA_FILE;
                              default a temporary file, printed on start)
  --tls-host NAME             extra DNS name / IP for the server certificate (repeatable)
  --account-id ID             account UID (RRSA_EMULATOR_ACCOUNT_ID, default 1234567890123456)
  --seed SEED                 seed for ids and fault rates (RRSA_EMULATOR_SEED; default
                              random per start, printed on start)
  --account UID:ID:SECRET     a further account with its root AccessKey (repeatable;
                              RRSA_EMULATOR_ACCOUNTS=UID:ID:SECRET,...)
  --access-key ID:SECRET      an account AccessKey (repeatable, the first is the root key;
                              RRSA_EMULATOR_ACCESS_KEYS=ID:SECRET,...; default
                              LTAI5tEmulatorRootKey001:emulator-root-secret-000000000)
  --issuer-override ISSUER=URL        fetch ISSUER's discovery document from URL
  --issuer-jwks ISSUER=URL            fetch ISSUER's JWKS from URL (skips discovery)
  --issuer-ca ISSUER=FILE             trust the CA in FILE when fetching ISSUER's keys
      (all three repeatable; RRSA_EMULATOR_ISSUER_OVERRIDES='{"<issuer>":{"discoveryUrl":..,"jwksUrl":..,"caFile":..}}')
  --timestamp-window SECONDS  accepted request clock skew, 0 = unchecked (default 900)
  --jwks-cache SECONDS        how long issuer keys are cached (default 60)
  -h, --help                  this text
`;

export interface ParsedArgs {
  help: boolean;
  options: StartOptions;
}

type Env = Record<string, string | undefined>;

function splitPair(value: string, separator: string, flag: string): [string, string] {
  const index = value.indexOf(separator);
  if (index <= 0 || index === value.length - 1) {
    throw new Error(`${flag} expects A${separator}B, got "${value}"`);
  }
  return [value.slice(0, index), value.slice(index + 1)];
}

function accessKey(value: string): AccessKey {
  const [accessKeyId, accessKeySecret] = splitPair(value, ':', '--access-key');
  return { accessKeyId, accessKeySecret };
}

function account(value: string): NonNullable<StartOptions['accounts']>[number] {
  const [accountId, key] = splitPair(value, ':', '--account');
  if (!/^\d+$/.test(accountId))
    throw new Error(`--account expects a numeric UID, got "${accountId}"`);
  return { accountId, rootKey: accessKey(key) };
}

function integer(value: string, flag: string): number {
  if (!/^\d+$/.test(value))
    throw new Error(`${flag} expects a non-negative integer, got "${value}"`);
  return Number(value);
}

interface EnvOverride {
  discoveryUrl?: string;
  jwksUrl?: string;
  caFile?: string;
}

function overridesFromEnv(text: string | undefined): Record<string, IssuerOverride> {
  if (!text) return {};
  const parsed = JSON.parse(text) as Record<string, EnvOverride>;
  const out: Record<string, IssuerOverride> = {};
  for (const [issuer, o] of Object.entries(parsed)) {
    out[issuer] = {
      ...(o.discoveryUrl ? { discoveryUrl: o.discoveryUrl } : {}),
      ...(o.jwksUrl ? { jwksUrl: o.jwksUrl } : {}),
      ...(o.caFile ? { caPem: readFileSync(o.caFile, 'utf8') } : {}),
    };
  }
  return out;
}

function fromEnv(env: Env): StartOptions {
  const keys = (env.RRSA_EMULATOR_ACCESS_KEYS ?? '').split(',').filter((k) => k !== '');
  const accounts = (env.RRSA_EMULATOR_ACCOUNTS ?? '').split(',').filter((a) => a !== '');
  return {
    host: env.RRSA_EMULATOR_HOST ?? '127.0.0.1',
    port: env.RRSA_EMULATOR_PORT ? integer(env.RRSA_EMULATOR_PORT, 'RRSA_EMULATOR_PORT') : 18080,
    https: env.RRSA_EMULATOR_HTTPS === 'true',
    ...(env.RRSA_EMULATOR_CA_FILE ? { caFile: env.RRSA_EMULATOR_CA_FILE } : {}),
    ...(env.RRSA_EMULATOR_ACCOUNT_ID ? { accountId: env.RRSA_EMULATOR_ACCOUNT_ID } : {}),
    ...(env.RRSA_EMULATOR_SEED ? { seed: env.RRSA_EMULATOR_SEED } : {}),
    ...(keys.length ? { accessKeys: keys.map(accessKey) } : {}),
    ...(accounts.length ? { accounts: accounts.map(account) } : {}),
    issuerOverrides: overridesFromEnv(env.RRSA_EMULATOR_ISSUER_OVERRIDES),
  };
}

function setOverride(options: StartOptions, pair: string, flag: string, field: string): void {
  const [issuer, value] = splitPair(pair, '=', flag);
  const overrides = (options.issuerOverrides ??= {});
  const current = overrides[issuer] ?? {};
  if (field === 'caPem') current.caPem = readFileSync(value, 'utf8');
  else if (field === 'jwksUrl') current.jwksUrl = value;
  else current.discoveryUrl = value;
  overrides[issuer] = current;
}

type FlagHandler = (options: StartOptions, value: string) => void;

const FLAGS: Record<string, FlagHandler> = {
  '--host': (o, v) => (o.host = v),
  '--port': (o, v) => (o.port = integer(v, '--port')),
  '--ca-file': (o, v) => (o.caFile = v),
  '--tls-host': (o, v) => (o.tlsHosts = [...(o.tlsHosts ?? []), v]),
  '--account-id': (o, v) => (o.accountId = v),
  '--seed': (o, v) => (o.seed = v),
  '--account': (o, v) => (o.accounts = [...(o.accounts ?? []), account(v)]),
  '--access-key': (o, v) => (o.accessKeys = [...(o.accessKeys ?? []), accessKey(v)]),
  '--issuer-override': (o, v) => setOverride(o, v, '--issuer-override', 'discoveryUrl'),
  '--issuer-jwks': (o, v) => setOverride(o, v, '--issuer-jwks', 'jwksUrl'),
  '--issuer-ca': (o, v) => setOverride(o, v, '--issuer-ca', 'caPem'),
  '--timestamp-window': (o, v) => (o.timestampWindowSeconds = integer(v, '--timestamp-window')),
  '--jwks-cache': (o, v) => (o.jwksCacheSeconds = integer(v, '--jwks-cache')),
};

/** Pure: flags over environment over defaults. Throws on an unknown flag or a bad value. */
export function parseEmulatorArgs(argv: string[], env: Env = {}): ParsedArgs {
  const options = fromEnv(env);
  let cliKeys = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help') return { help: true, options };
    if (arg === '--https') {
      options.https = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const handler = FLAGS[name];
    if (!handler) throw new Error(`unknown flag ${arg}\n\n${EMULATOR_USAGE}`);
    const value = eq > 0 && name !== arg ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    // Keys given as flags replace the ones from the environment.
    if (name === '--access-key' && !cliKeys) {
      options.accessKeys = [];
      cliKeys = true;
    }
    handler(options, value);
  }
  return { help: false, options: withRootKey(options) };
}

/** The first AccessKey given is the account's root key. */
function withRootKey(options: StartOptions): StartOptions {
  const [rootKey, ...rest] = options.accessKeys ?? [];
  if (!rootKey) return options;
  return { ...options, rootKey, accessKeys: rest };
}

export interface CliIo {
  env?: Env;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Close on SIGINT / SIGTERM (default true). */
  handleSignals?: boolean;
}

/** Starts the emulator from command-line flags; resolves once listening (undefined for --help). */
export async function runEmulatorCli(
  argv: string[],
  io: CliIo = {},
): Promise<RunningEmulator | undefined> {
  const stdout = io.stdout ?? ((t: string) => process.stdout.write(t));
  const stderr = io.stderr ?? ((t: string) => process.stderr.write(t));
  const parsed = parseEmulatorArgs(argv, io.env ?? process.env);
  if (parsed.help) {
    stdout(EMULATOR_USAGE);
    return undefined;
  }
  const emulator = await start({ ...parsed.options, log: (m: string) => stderr(`${m}\n`) });
  const line = {
    message: 'Alibaba Cloud emulator listening',
    endpoint: emulator.endpoint,
    url: emulator.url,
    https: emulator.httpsUrl !== undefined,
    caFile: emulator.caFile,
    accountId: emulator.accountId,
    accessKeyId: emulator.rootKey.accessKeyId,
    accessKeySecret: emulator.rootKey.accessKeySecret,
    accounts: emulator.accounts.map((a) => ({
      accountId: a.accountId,
      accessKeyId: a.rootKey.accessKeyId,
    })),
    seed: emulator.seed,
  };
  stdout(`${JSON.stringify(line)}\n`);
  if (io.handleSignals ?? true) {
    const stop = (): void => {
      emulator.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return emulator;
}

// Run when executed directly (`node packages/alibaba-cloud-emulator/src/cli.ts`, or through the
// node_modules/.bin symlink), not when imported.
if (/[\\/]alibaba-cloud-emulator[\\/]src[\\/]cli\.[jt]s$/.test(entryPoint())) {
  runEmulatorCli(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

function entryPoint(): string {
  const argv1 = process.argv[1] ?? '';
  try {
    return realpathSync(argv1);
  } catch {
    return argv1;
  }
}
