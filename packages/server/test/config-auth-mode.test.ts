// Auth modes that are named in the contract but not built yet must not start a server that
// checks nothing: the loopback-only guard of mode "none" would be bypassed by naming them.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from 'keruta-api';

describe('keruta-api auth modes', () => {
  it.each([
    [['--auth-mode', 'jwt', '--host', '0.0.0.0'], {}, '--auth-mode'],
    [['--host', '0.0.0.0'], { KERUTA_AUTH_MODE: 'apikey' }, 'KERUTA_AUTH_MODE'],
    [[], { KERUTA_AUTH_MODE: 'jwt', KERUTA_JWT_SECRET: 's3cret' }, 'KERUTA_AUTH_MODE'],
  ])('refuses %j %j until that mode checks credentials, naming %s', (argv, env, name) => {
    const load = () => loadConfig({ argv, env });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`^${name}: (jwt|apikey) authentication is not available in this version`));
  });

  it('still starts with mode none on loopback', () => {
    expect(loadConfig({ argv: ['--auth-mode', 'none'], env: {} })).toMatchObject({ help: false, config: { auth: { mode: 'none' } } });
  });
});
