/**
 * How `serve` settings combine (defaults, then environment, then flags) and how a bad value is
 * rejected: a ConfigError with code PI_ERR_CONFIG whose `setting` names the flag or variable used.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULTS, SETTINGS, resolveConfig, settingName, type Config } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

function assertRejects(resolve: () => Config, setting: string): void {
  assert.throws(resolve, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'PI_ERR_CONFIG');
    assert.equal(error.setting, setting);
    return true;
  });
}

/** The environment variable of a flag, as SETTINGS declares it. */
function envOf(flag: string): string {
  const found = SETTINGS.find((candidate) => candidate.flag === flag);
  assert.ok(found, `no setting with flag --${flag}`);
  return found.env;
}

/** Values each setting must refuse, by flag. */
const BAD_VALUES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['port', ['abc', '-1', '65536', '80.5', '1e3', '0x50', '']],
  ['host', [' ', 'a b', '127.0.0.1 ', '\t']],
  ['connection-limit', ['0', 'many', '-5', '1000001']],
  ['waiting-limit', ['-1', 'ten']],
  ['max-line-bytes', ['63', '67108865', '64k']],
  ['idle-timeout-ms', ['-1', '2147483648', '1.5']],
  ['drain-timeout-ms', ['0', 'soon']],
  ['shutdown-timeout-ms', ['-1', 'later']],
  ['log-level', ['loud', 'INFO', '']],
  ['log-format', ['xml', 'JSON']],
  [
    'log-destination',
    [
      '',
      'syslog',
      'STDOUT',
      'udp://host',
      'tcp://:514',
      'tcp://host:0',
      'tcp://host:65536',
      'tcp://host:514/x',
      'tcp://user@host:514',
      'http://host:514',
      'unix://dev/log',
      'unix://',
    ],
  ],
  ['data-dir', ['']],
  ['in-memory', ['maybe', 'TRUE', '2']],
  ['fsync', ['never', 'Always']],
  ['admin-port', ['on', '70000', '-1', 'OFF', 'Off', '']],
  ['admin-host', ['', ' ']],
  ['admin-connection-limit', ['0', '100001', '1e2', 'few']],
  ['admin-token', ['with space', 'tab\there', 'caf\u00e9', 'x'.repeat(1025)]],
  ['database-url', ['mysql://localhost/db', 'localhost:5432']],
  ['require-synchronous-standby', ['sometimes', 'ON', '2']],
  ['query-lane', ['always', 'YES', '-1']],
  ['pool-size', ['0', '1001', 'big']],
  ['batch-max-commands', ['0', '100001', 'many']],
  ['batches-in-flight', ['0', '1001', 'some']],
];

describe('resolveConfig', () => {
  test('gives the defaults with no flags and no environment', () => {
    assert.deepEqual(resolveConfig({}, {}), DEFAULTS);
  });

  test('documents defaults that are safe to serve with', () => {
    assert.equal(DEFAULTS.port, 8080);
    assert.equal(DEFAULTS.maxLineBytes, 64 * 1024);
    assert.equal(DEFAULTS.inMemory, false);
  });

  test('reads each setting from its PACKAGE_INDEXER_ variable', () => {
    const config = resolveConfig(
      {},
      {
        PACKAGE_INDEXER_PORT: '9000',
        PACKAGE_INDEXER_HOST: '127.0.0.1',
        PACKAGE_INDEXER_CONNECTION_LIMIT: '5',
        PACKAGE_INDEXER_MAX_LINE_BYTES: '1024',
        PACKAGE_INDEXER_IN_MEMORY: 'true',
        PACKAGE_INDEXER_FSYNC: 'always',
        PACKAGE_INDEXER_ADMIN_PORT: 'off',
        PACKAGE_INDEXER_LOG_LEVEL: 'debug',
        PACKAGE_INDEXER_DATABASE_URL: 'postgres://u:p@localhost:5432/db',
      },
    );
    assert.equal(config.port, 9000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.connectionLimit, 5);
    assert.equal(config.maxLineBytes, 1024);
    assert.equal(config.inMemory, true);
    assert.equal(config.fsync, 'always');
    assert.equal(config.adminPort, null);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.databaseUrl, 'postgres://u:p@localhost:5432/db');
    assert.equal(config.waitingLimit, DEFAULTS.waitingLimit);
  });

  test('reads flags as parseArgs returns them, switches as booleans', () => {
    const config = resolveConfig({ port: '0', 'in-memory': true, 'admin-port': '0', 'idle-timeout-ms': '0' }, {});
    assert.equal(config.port, 0);
    assert.equal(config.inMemory, true);
    assert.equal(config.adminPort, 0);
    assert.equal(config.idleTimeoutMs, 0);
  });

  test('lets a flag win over its variable', () => {
    const env = { PACKAGE_INDEXER_PORT: '9000', PACKAGE_INDEXER_LOG_LEVEL: 'warn' };
    const config = resolveConfig({ port: '9100' }, env);
    assert.equal(config.port, 9100);
    assert.equal(config.logLevel, 'warn');
  });

  test('lets a valid flag win over an invalid variable, which is then never read', () => {
    assert.equal(resolveConfig({ port: '9100' }, { PACKAGE_INDEXER_PORT: 'nonsense' }).port, 9100);
  });

  test('ignores variables without the PACKAGE_INDEXER_ prefix', () => {
    assert.equal(resolveConfig({}, { PORT: '1234' }).port, DEFAULTS.port);
  });

  test('reads a log destination into its transport and address', () => {
    const destination = (raw: string): Config['logDestination'] => resolveConfig({ 'log-destination': raw }, {}).logDestination;
    assert.deepEqual(DEFAULTS.logDestination, { transport: 'stdout' });
    assert.deepEqual(destination('stdout'), { transport: 'stdout' });
    assert.deepEqual(destination('udp://127.0.0.1:514'), { transport: 'udp', host: '127.0.0.1', port: 514 });
    assert.deepEqual(destination('tcp://logs.example.org:601'), { transport: 'tcp', host: 'logs.example.org', port: 601 });
    assert.deepEqual(destination('tcp://[::1]:6514'), { transport: 'tcp', host: '::1', port: 6514 });
    assert.deepEqual(destination('unix:///dev/log'), { transport: 'unix', path: '/dev/log' });
    assert.deepEqual(resolveConfig({}, { PACKAGE_INDEXER_LOG_DESTINATION: 'unix:///run/syslog stream.sock' }).logDestination, {
      transport: 'unix',
      path: '/run/syslog stream.sock',
    });
  });

  test('takes an empty host as all interfaces', () => {
    assert.equal(resolveConfig({}, { PACKAGE_INDEXER_HOST: '' }).host, '');
  });

  test('names a setting as the user gave it: flag, else variable, else flag', () => {
    assert.equal(settingName('port', { port: '1' }, { PACKAGE_INDEXER_PORT: '2' }), '--port');
    assert.equal(settingName('port', {}, { PACKAGE_INDEXER_PORT: '2' }), 'PACKAGE_INDEXER_PORT');
    assert.equal(settingName('adminPort', {}, {}), '--admin-port');
  });

  test('treats an empty database URL as none', () => {
    assert.equal(resolveConfig({}, { PACKAGE_INDEXER_DATABASE_URL: '' }).databaseUrl, undefined);
  });

  test('reads an admin token of visible ASCII, and an empty one as none', () => {
    assert.equal(resolveConfig({ 'admin-token': 's3cret:with/odd=chars' }, {}).adminToken, 's3cret:with/odd=chars');
    assert.equal(resolveConfig({}, { PACKAGE_INDEXER_ADMIN_TOKEN: 'from-env' }).adminToken, 'from-env');
    assert.equal(resolveConfig({}, { PACKAGE_INDEXER_ADMIN_TOKEN: '' }).adminToken, undefined);
  });

  test('every setting has a flag and a PACKAGE_INDEXER_ variable, and a bad-value case here', () => {
    const covered = new Set(BAD_VALUES.map(([flag]) => flag));
    for (const { key, flag, env } of SETTINGS) {
      assert.match(env, /^PACKAGE_INDEXER_[A-Z_]+$/);
      assert.ok(key in DEFAULTS, key);
      assert.ok(covered.has(flag), `no bad values listed for --${flag}`);
    }
  });
});

describe('resolveConfig rejects bad values', () => {
  for (const [flag, values] of BAD_VALUES) {
    test(`rejects bad --${flag} values, naming the flag`, () => {
      for (const value of values) assertRejects(() => resolveConfig({ [flag]: value }, {}), `--${flag}`);
    });

    test(`rejects bad ${envOf(flag)} values, naming the variable`, () => {
      for (const value of values) assertRejects(() => resolveConfig({}, { [envOf(flag)]: value }), envOf(flag));
    });
  }

  test('refuses an admin port of OFF with a message that names off, the word it takes', () => {
    assert.throws(
      () => resolveConfig({}, { PACKAGE_INDEXER_ADMIN_PORT: 'OFF' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /\boff\b/);
        return true;
      },
    );
  });

  test('names the flag, not the variable, when the flag holds the bad value', () => {
    assertRejects(() => resolveConfig({ 'connection-limit': '0' }, { PACKAGE_INDEXER_CONNECTION_LIMIT: '10' }), '--connection-limit');
  });
});
