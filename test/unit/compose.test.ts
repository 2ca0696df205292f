/**
 * docker-compose.yml cannot be run here (no Docker engine), so this checks it statically: it is
 * strict YAML, follows the essential structure of the Compose specification, wires the services
 * together correctly, and passes the worker and the API exactly what lib/config.ts reads.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { loadApiConfig } from '../../lib/config.js';
import { SEARCH_ATTRIBUTE_NAMES, SEARCH_ATTRIBUTES } from '../../vocabulary/search-attributes.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

// Compiled to dist/test/unit/, three levels below the repository root.
const repoPath = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const readRepoFile = (p: string): string => readFileSync(repoPath(p), 'utf8');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// --- the compose file ---------------------------------------------------------------------------

function parseCompose(text: string): { errors: string[]; value: unknown } {
  // uniqueKeys rejects duplicate keys; merge enables the `<<: *anchor` keys Compose supports.
  const doc = parseDocument(text, { strict: true, uniqueKeys: true, merge: true, prettyErrors: true });
  const errors = [...doc.errors, ...doc.warnings].map((e) => e.message);
  return { errors, value: errors.length ? undefined : doc.toJS({ maxAliasCount: 100 }) };
}

const composeText = readRepoFile('docker-compose.yml');
const parsed = parseCompose(composeText);
const compose = (isObj(parsed.value) ? parsed.value : {}) as Obj;
const services = (isObj(compose.services) ? compose.services : {}) as Record<string, Obj>;

/** Resolves Compose interpolation as if no variable were set: `${X:-d}` → d, `$$` → `$`. */
function withDefaults(s: string): string {
  return s.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, _n, op, arg) => {
      if (m === '$$') return '$';
      return op === '-' || op === ':-' ? String(arg) : '';
    },
  );
}

/** Names of the variables Compose interpolates in a value (YAML comments are already gone). */
function interpolatedNames(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const m of value.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
      into.add(m[1] ?? m[2]!);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) interpolatedNames(v, into);
  } else if (isObj(value)) {
    for (const v of Object.values(value)) interpolatedNames(v, into);
  }
  return into;
}

function environmentOf(service: Obj): Map<string, string> {
  const env = new Map<string, string>();
  const raw = service.environment;
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const [name, ...rest] = String(entry).split('=');
      env.set(name!, rest.join('='));
    }
  } else if (isObj(raw)) {
    for (const [name, v] of Object.entries(raw)) env.set(name, v === null ? '' : String(v));
  }
  return env;
}

function dependenciesOf(service: Obj): Array<{ name: string; condition: unknown }> {
  const raw = service.depends_on;
  if (Array.isArray(raw)) return raw.map((name) => ({ name: String(name), condition: 'service_started' }));
  if (isObj(raw))
    return Object.entries(raw).map(([name, v]) => ({ name, condition: isObj(v) ? v.condition : undefined }));
  return [];
}

// --- lib/config.ts ------------------------------------------------------------------------------

// The configuration reads its sections in lib/config/*.ts.
const configText = ['lib/config.ts', ...readdirSync(repoPath('lib/config')).map((f) => `lib/config/${f}`)]
  .filter((f) => f.endsWith('.ts'))
  .map(readRepoFile)
  .join('\n');
const READ_WITH_HELPER = /\b(required|optional|integer|url|bool|origins|oneOf)\(\s*env\s*,\s*'([A-Z][A-Z0-9_]*)'/g;
const READ_DIRECTLY = /\benv(?:\.([A-Z][A-Z0-9_]*)\b|\[\s*'([A-Z][A-Z0-9_]*)'\s*\])/g;

const configVars = new Set<string>();
const requiredConfigVars = new Set<string>();
for (const m of configText.matchAll(READ_WITH_HELPER)) {
  configVars.add(m[2]!);
  if (m[1] === 'required') requiredConfigVars.add(m[2]!);
}
for (const m of configText.matchAll(READ_DIRECTLY)) configVars.add(m[1] ?? m[2]!);

// --- .env.example -------------------------------------------------------------------------------

const envExampleVars = new Set(
  readRepoFile('.env.example')
    .split('\n')
    .map((line) => /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line.trim())?.[1])
    .filter((n): n is string => n !== undefined),
);

// ------------------------------------------------------------------------------------------------

// `version` (obsolete) and `include`, `models` (unused here) are left out on purpose.
const TOP_LEVEL_KEYS = new Set(['name', 'services', 'volumes', 'networks', 'configs', 'secrets']);
// Service attributes of the Compose specification (schema/compose-spec.json of compose-spec): a
// misspelt one is rejected by `docker compose` at deploy time, so catch it here.
const SERVICE_KEYS = new Set(
  `annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name
   cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset
   credential_spec depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname
   entrypoint env_file environment expose extends external_links extra_hosts gpus group_add healthcheck
   hostname image init ipc isolation label_file labels links logging mac_address mem_limit mem_reservation
   mem_swappiness memswap_limit models network_mode networks oom_kill_disable oom_score_adj pid pids_limit
   platform ports post_start pre_stop privileged profiles provider pull_policy pull_refresh_after read_only
   restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt
   sysctls tmpfs tty ulimits use_api_socket user userns_mode uts volumes volumes_from working_dir`.split(/\s+/),
);
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);
const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;
// [[host_ip:]host_port[-range]:]container_port[-range][/protocol]
const PORT =
  /^(?:(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?:\d{1,5}(?:-\d{1,5})?)?:)?\d{1,5}(?:-\d{1,5})?(?:\/(?:tcp|udp|sctp))?$/;
const REQUIRED_SERVICES = ['postgres', 'temporal', 'temporal-ui', 'synapse', 'worker', 'api'];
const APP_SERVICES = ['worker', 'api'];

describe('docker-compose.yml', () => {
  it('parses as strict YAML without duplicate keys', () => {
    expect(parsed.errors).toEqual([]);
    expect(isObj(parsed.value)).toBe(true);
  });

  it('rejects a duplicate key (the strict parse is not a no-op)', () => {
    expect(parseCompose('services:\n  a: {image: x}\n  a: {image: y}\n').errors.length).toBeGreaterThan(0);
  });

  it('uses only top-level keys the Compose specification defines (or x- extensions)', () => {
    const unknown = Object.keys(compose).filter((k) => !TOP_LEVEL_KEYS.has(k) && !k.startsWith('x-'));
    expect(unknown).toEqual([]);
    expect(Object.keys(services).length).toBeGreaterThan(0);
  });

  it('defines the postgres, temporal, temporal-ui, synapse, worker and api services', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(REQUIRED_SERVICES));
  });

  it('gives every service an image or a build, and only specification attributes', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, hasImageOrBuild: isObj(service) && ('image' in service || 'build' in service) }).toEqual({
        name,
        hasImageOrBuild: true,
      });
      const unknown = Object.keys(service).filter((k) => !SERVICE_KEYS.has(k) && !k.startsWith('x-'));
      expect({ name, unknown }).toEqual({ name, unknown: [] });
      if (service.restart !== undefined)
        expect({ name, restart: RESTART.test(String(service.restart)) }).toEqual({ name, restart: true });
    }
  });

  it('depends only on existing services, with valid conditions, and waits for health only where a healthcheck exists', () => {
    let edges = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const dep of dependenciesOf(service)) {
        edges++;
        expect({ name, dep: dep.name, exists: dep.name in services && dep.name !== name }).toEqual({
          name,
          dep: dep.name,
          exists: true,
        });
        expect({ name, dep: dep.name, condition: CONDITIONS.has(String(dep.condition)) }).toEqual({
          name,
          dep: dep.name,
          condition: true,
        });
        if (dep.condition === 'service_healthy') {
          expect({ dep: dep.name, healthcheck: isObj(services[dep.name]?.healthcheck) }).toEqual({
            dep: dep.name,
            healthcheck: true,
          });
        }
      }
    }
    expect(edges).toBeGreaterThan(0);
  });

  it('gives every healthcheck a test in CMD, CMD-SHELL or string form', () => {
    const checked = Object.entries(services).filter(([, s]) => s.healthcheck !== undefined);
    expect(checked.map(([n]) => n)).toEqual(expect.arrayContaining(['postgres', 'temporal', 'synapse', 'api']));
    for (const [name, service] of checked) {
      const hc = service.healthcheck as Obj;
      if (hc.disable === true) continue;
      const test = hc.test;
      const ok =
        typeof test === 'string'
          ? test.length > 0
          : Array.isArray(test) && ['CMD', 'CMD-SHELL'].includes(String(test[0])) && test.length > 1;
      expect({ name, validTest: ok }).toEqual({ name, validTest: true });
    }
  });

  it('publishes ports in valid short syntax (after default interpolation) or long syntax', () => {
    let count = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const port of (service.ports as unknown[] | undefined) ?? []) {
        count++;
        const ok =
          typeof port === 'number'
            ? Number.isInteger(port) && port > 0 && port < 65536
            : typeof port === 'string'
              ? PORT.test(withDefaults(port))
              : isObj(port) && port.target !== undefined;
        expect({ name, port, ok }).toEqual({ name, port, ok: true });
      }
    }
    expect(count).toBeGreaterThan(0);
    expect(PORT.test('127.0.0.1:8080:8080')).toBe(true);
    expect(PORT.test('8080:')).toBe(false);
  });

  it('declares every named volume a service mounts, and every bind-mounted path exists in the repository', () => {
    const declared = new Set(Object.keys(isObj(compose.volumes) ? compose.volumes : {}));
    const named: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const v of (service.volumes as unknown[] | undefined) ?? []) {
        const source =
          typeof v === 'string' ? (v.includes(':') ? v.split(':')[0]! : '') : isObj(v) ? String(v.source ?? '') : '';
        const type = isObj(v) ? v.type : undefined;
        if (source === '' || type === 'tmpfs') continue; // anonymous volume
        if (/^[./~$]/.test(source) || type === 'bind') {
          if (source.startsWith('./'))
            expect({ name, source, exists: existsSync(repoPath(source.slice(2))) }).toEqual({
              name,
              source,
              exists: true,
            });
        } else {
          named.push(source);
          expect({ name, volume: source, declared: declared.has(source) }).toEqual({
            name,
            volume: source,
            declared: true,
          });
        }
      }
    }
    expect(named).toEqual(expect.arrayContaining(['pgdata']));
  });

  it('builds the worker and the API from this repository, the worker running dist/worker/main.js', () => {
    for (const name of APP_SERVICES) expect(services[name]?.build).toBe('.');
    expect(services.worker?.command).toEqual(['node', 'dist/worker/main.js']);
  });

  it('lets the API listen on all interfaces on the container port it publishes and probes', () => {
    const env = environmentOf(services.api ?? {});
    expect(env.get('API_HOST')).toBe('0.0.0.0');
    const published = ((services.api?.ports as string[] | undefined) ?? []).map((p) =>
      withDefaults(p).split(':').pop(),
    );
    expect(published).toEqual([env.get('API_PORT')]);
    expect(JSON.stringify((services.api?.healthcheck as Obj | undefined)?.test)).toContain(
      `:${env.get('API_PORT')}/healthz`,
    );
  });

  it('registers every custom search attribute the workflows use, with its type', () => {
    const script = JSON.stringify([services['temporal-setup']?.entrypoint, services['temporal-setup']?.command]);
    const registered = new Map([...script.matchAll(/--name\s+(\w+)\s+--type\s+(\w+)/g)].map((m) => [m[1]!, m[2]!]));
    expect(SEARCH_ATTRIBUTE_NAMES.length).toBeGreaterThan(0);
    for (const attr of SEARCH_ATTRIBUTE_NAMES)
      expect({ attr, type: registered.get(attr) }).toEqual({ attr, type: SEARCH_ATTRIBUTES[attr] });
    expect(registered.get('EntitySlugs')).toBe('KeywordList');
  });

  it('registers the same search attributes on the local stack (scripts/stack.sh)', () => {
    const script = readFileSync(repoPath('scripts/stack.sh'), 'utf8');
    const list = /^SEARCH_ATTRIBUTES=\(([^)]*)\)/m.exec(script)?.[1] ?? '';
    const registered = Object.fromEntries(list.split(/\s+/).filter(Boolean).map((p) => p.split('=')));
    expect(registered).toEqual(SEARCH_ATTRIBUTES);
  });
});

describe('docker-compose.yml and lib/config.ts', () => {
  it('extracts the variables lib/config.ts reads (so the checks below cannot pass vacuously)', () => {
    expect(configVars.size).toBeGreaterThan(10);
    expect([...configVars]).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'TEMPORAL_ADDRESS', 'API_PORT', 'SERVICE_JWT_SECRET']),
    );
    expect([...requiredConfigVars]).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'MATRIX_AS_TOKEN', 'TOKEN_ENCRYPTION_KEYS']),
    );
  });

  it.each(APP_SERVICES)('passes the %s service only variables that lib/config.ts reads', (name) => {
    const passed = [...environmentOf(services[name] ?? {}).keys()];
    expect(passed.length).toBeGreaterThan(0);
    expect(passed.filter((v) => !configVars.has(v))).toEqual([]);
  });

  it.each(APP_SERVICES)('passes the %s service every variable lib/config.ts requires', (name) => {
    const passed = environmentOf(services[name] ?? {});
    expect([...requiredConfigVars].filter((v) => !passed.has(v))).toEqual([]);
  });

  it.each(APP_SERVICES)(
    'passes the %s service a service JWT setting, which loadConfig cannot start without',
    (name) => {
      const passed = environmentOf(services[name] ?? {});
      expect(passed.has('SERVICE_JWT_SECRET') || passed.has('SERVICE_JWT_JWKS_URL')).toBe(true);
    },
  );
});

describe('docker-compose.yml: the codec is not open by default', () => {
  const api = environmentOf(services.api ?? {});
  const ui = environmentOf(services['temporal-ui'] ?? {});
  // What the API reads when the operator sets nothing beyond the required secrets.
  const apiDefaults = Object.fromEntries([...api].map(([k, v]) => [k, withDefaults(v)]));

  it('asks for a JWT from the Temporal UI, which signs operators in and passes their token', () => {
    expect(apiDefaults.CODEC_AUTH).toBe('jwt');
    expect(withDefaults(ui.get('TEMPORAL_CODEC_PASS_ACCESS_TOKEN') ?? '')).toBe('true');
    expect(withDefaults(ui.get('TEMPORAL_AUTH_ENABLED') ?? '')).toBe('true');
  });

  it('makes the API refuse to start until the JWKS (or a token) is given, and start once it is', () => {
    const env = { ...apiDefaults, ...MINIMAL_ENV };
    expect(() => loadApiConfig(env)).toThrow(/CODEC_JWKS_URL is required when CODEC_AUTH=jwt/);
    expect(loadApiConfig({ ...env, CODEC_JWKS_URL: 'https://idp.example/jwks' }).codec.auth?.mode).toBe('jwt');
    expect(loadApiConfig({ ...env, CODEC_AUTH: 'token', CODEC_ACCESS_TOKEN: 't'.repeat(32) }).codec.auth?.mode).toBe(
      'token',
    );
  });

  it('shows the same way in .env.example', () => {
    expect(readRepoFile('.env.example')).toMatch(/^CODEC_AUTH=jwt$/m);
    expect(readRepoFile('.env.example')).toMatch(/^TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true$/m);
  });
});

describe('docker-compose.yml and .env.example', () => {
  const interpolated = interpolatedNames(compose);

  it('interpolates variables (the checks below are not vacuous)', () => {
    expect(interpolated.size).toBeGreaterThan(10);
    expect([...interpolated]).toEqual(expect.arrayContaining(['MATRIX_AS_TOKEN', 'POSTGRES_PASSWORD']));
  });

  it('lists in .env.example every variable the compose file interpolates', () => {
    expect([...interpolated].filter((v) => !envExampleVars.has(v)).sort()).toEqual([]);
  });

  it('lists in .env.example no variable the compose file does not use', () => {
    expect([...envExampleVars].filter((v) => !interpolated.has(v)).sort()).toEqual([]);
  });

  it('makes compose fail with a message when a required secret of lib/config.ts is unset', () => {
    for (const v of requiredConfigVars) {
      if (v === 'DATABASE_URL') continue; // composed from ORCHESTRATOR_DB_PASSWORD, itself required
      expect({ v, guarded: composeText.includes(`\${${v}:?`) }).toEqual({ v, guarded: true });
    }
    expect(composeText).toContain('${ORCHESTRATOR_DB_PASSWORD:?');
  });
});
