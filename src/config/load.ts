import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { envName, flagName, OPTIONS, type OptionSpec } from './options.ts';

export type ConfigValue = string | number | boolean | string[];
export type RawConfig = Record<string, ConfigValue>;

export class ConfigError extends Error {}

interface Source {
  value: string | ConfigValue;
  from: string;
}

/**
 * Flags beat environment variables, which beat the YAML file (`--config`), which beats defaults.
 * Every problem is reported at once, each naming the flag or variable and what to do.
 */
export function loadConfig(input: {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  readFile?: (path: string) => string;
  options?: readonly OptionSpec[];
}): RawConfig {
  const options = input.options ?? OPTIONS;
  const problems: string[] = [];
  const flags = parseFlags(input.argv, options, problems);
  const configPath = flags.get('config')?.value;
  const file =
    typeof configPath === 'string' && input.readFile
      ? readConfigFile(input.readFile, configPath, problems)
      : {};
  const config: RawConfig = {};
  const origins: Record<string, string> = {};
  for (const option of options) {
    const source = pick(option, flags, input.env, file, String(configPath));
    if (!source) continue;
    const value = convert(option, source, problems);
    if (value !== undefined) {
      config[option.key] = value;
      origins[option.key] = source.from;
    }
  }
  problems.push(...validate(config, options, origins));
  if (problems.length > 0)
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
}

function parseFlags(
  argv: readonly string[],
  options: readonly OptionSpec[],
  problems: string[],
): Map<string, Source> {
  const byFlag = new Map(options.map((o) => [flagName(o.key), o]));
  const flags = new Map<string, Source>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match) {
      problems.push(`unexpected argument "${arg}": flags look like --name=value`);
      continue;
    }
    const name = match[1]!;
    const option = byFlag.get(name);
    if (!option && name !== 'config') {
      problems.push(`unknown flag --${name}: see --help for the list`);
      continue;
    }
    let value = match[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (option?.type === 'boolean' && (next === undefined || next.startsWith('--')))
        value = 'true';
      else if (next !== undefined && !next.startsWith('--')) value = argv[++i];
    }
    if (value === undefined) problems.push(`flag --${name} needs a value`);
    else flags.set(option?.key ?? 'config', { value, from: `flag --${name}` });
  }
  return flags;
}

function readConfigFile(
  readFile: (path: string) => string,
  path: string,
  problems: string[],
): Record<string, unknown> {
  try {
    const parsed: unknown = parseYaml(readFile(path));
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a mapping');
    const known = new Set(OPTIONS.map((o) => o.key));
    for (const key of Object.keys(parsed))
      if (!known.has(key)) problems.push(`config file ${path}: unknown key "${key}"`);
    return parsed as Record<string, unknown>;
  } catch (error) {
    problems.push(`config file ${path}: ${(error as Error).message}`);
    return {};
  }
}

function pick(
  option: OptionSpec,
  flags: Map<string, Source>,
  env: Readonly<Record<string, string | undefined>>,
  file: Record<string, unknown>,
  filePath: string,
): Source | undefined {
  const flag = flags.get(option.key);
  if (flag) return flag;
  for (const name of [envName(option.key), ...(option.envAliases ?? [])]) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, from: `env ${name}` };
  }
  if (file[option.key] !== undefined)
    return { value: file[option.key] as ConfigValue, from: `${filePath}: ${option.key}` };
  if (option.default !== undefined) return { value: option.default, from: 'default' };
  return undefined;
}

function convert(option: OptionSpec, source: Source, problems: string[]): ConfigValue | undefined {
  const { value, from } = source;
  if (typeof value !== 'string') return value;
  switch (option.type) {
    case 'boolean':
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      problems.push(`${from}: "${value}" is not a boolean: use true or false`);
      return undefined;
    case 'integer':
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || Number.isNaN(n)) {
        problems.push(`${from}: "${value}" is not a number`);
        return undefined;
      }
      return n;
    }
    case 'duration':
      return parseDuration(value, from, problems);
    case 'list':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    default:
      return value;
  }
}

/** `90`, `90s`, `10m`, `1h` → seconds. */
export function parseDuration(value: string, from: string, problems: string[]): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  if (!match) {
    problems.push(`${from}: "${value}" is not a duration: use for example 30s, 10m or 1h`);
    return undefined;
  }
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Number(match[1]) * unit;
}

const JSON_TYPES: Record<string, string> = {
  string: 'string',
  integer: 'integer',
  number: 'number',
  boolean: 'boolean',
  list: 'array',
  duration: 'number',
};

function validate(
  config: RawConfig,
  options: readonly OptionSpec[],
  origins: Record<string, string>,
): string[] {
  const schema = {
    type: 'object',
    required: options.filter((o) => o.required).map((o) => o.key),
    properties: Object.fromEntries(
      options.map((o) => [
        o.key,
        {
          type: JSON_TYPES[o.type],
          ...(o.type === 'list' ? { items: { type: 'string' } } : {}),
          ...(o.schema ?? {}),
        },
      ]),
    ),
  };
  const ajv = new Ajv({ allErrors: true });
  const check = ajv.compile(schema);
  if (check(config)) return [];
  return (check.errors ?? []).map((error) => {
    const key =
      error.keyword === 'required'
        ? String((error.params as { missingProperty: string }).missingProperty)
        : (error.instancePath.split('/')[1] ?? '');
    const where = `--${flagName(key)} (env ${envName(key)})`;
    if (error.keyword === 'required') return `${where} is required`;
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
    const detail = allowed ? `must be one of ${allowed.join(', ')}` : error.message;
    return `${where}: ${detail} (from ${origins[key] ?? 'default'}; got ${JSON.stringify(config[key])})`;
  });
}

export function renderHelp(options: readonly OptionSpec[] = OPTIONS): string {
  const lines = options.map((o) => {
    const def =
      o.default === undefined
        ? o.required
          ? ' (required)'
          : ''
        : ` (default ${Array.isArray(o.default) ? o.default.join(',') || '""' : String(o.default)})`;
    return `  --${flagName(o.key)}  [${envName(o.key)}]\n      ${o.help}${def}`;
  });
  return `${lines.join('\n')}\n  --config FILE\n      YAML file with any of the keys above in camelCase (flags and env win)\n`;
}
