import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  InvalidMosquittoUserError, mosquittoAcl, mosquittoConf, mosquittoPasswordLine,
} from '../../control-plane/broker/mosquitto-config.js';
import { MAX_PACKET_BYTES } from '../../control-plane/broker/broker-acl.js';

describe('mosquitto config', () => {
  it('denies anonymous clients, binds the given address and caps packet size', () => {
    const conf = mosquittoConf({ host: '127.0.0.1', port: 18830, passwordFile: '/p', aclFile: '/a' });
    expect(conf).toContain('allow_anonymous false');
    expect(conf).toContain('listener 18830 127.0.0.1');
    expect(conf).toContain(`max_packet_size ${MAX_PACKET_BYTES}`);
    expect(conf).toMatch(/password_file \/p\n/);
    expect(conf).toMatch(/acl_file \/a\n/);
  });

  it('serves mqtts with the given certificate after the listener line, passwords still the identities', () => {
    const lines = mosquittoConf({ host: '127.0.0.1', port: 8883, passwordFile: '/p', aclFile: '/a', tls: { caFile: '/ca.crt', certFile: '/server.crt', keyFile: '/server.key' } }).split('\n');
    const listener = lines.indexOf('listener 8883 127.0.0.1');
    for (const line of ['cafile /ca.crt', 'certfile /server.crt', 'keyfile /server.key', 'tls_version tlsv1.2', 'require_certificate false']) {
      expect(lines.indexOf(line), line).toBeGreaterThan(listener);
    }
    expect(lines).toContain('password_file /p');
    expect(lines).not.toContain('use_identity_as_username true');
  });

  it('puts listener options after the listener line so no default listener opens on 1883', () => {
    const lines = mosquittoConf({ host: '127.0.0.1', port: 18830, passwordFile: '/p', aclFile: '/a' }).split('\n');
    expect(lines.indexOf('use_username_as_clientid true')).toBeGreaterThan(lines.indexOf('listener 18830 127.0.0.1'));
  });

  it('writes node patterns with %u and full access for control plane users', () => {
    const acl = mosquittoAcl(['control-plane']);
    expect(acl).toContain('user control-plane\ntopic readwrite fleet/v1/#\n');
    expect(acl).toContain('pattern write fleet/v1/nodes/%u/status\n');
    expect(acl).toContain('pattern write fleet/v1/nodes/%u/pods/+/status\n');
    expect(acl).toContain('pattern read fleet/v1/nodes/%u/desired\n');
    expect(acl).not.toMatch(/pattern write .*desired/);
    expect(acl).toContain('pattern read fleet/v1/nodes/%u/desired/policies\n');
    expect(acl).toContain('pattern read fleet/v1/cluster/desired/services\n');
  });

  it('denies the bootstrap user the cluster-wide parts that the node patterns would grant it', () => {
    const acl = mosquittoAcl(['control-plane'], 'skiff-bootstrap');
    expect(acl).toContain('user skiff-bootstrap\ntopic read fleet/v1/cp/presence\ntopic deny fleet/v1/cluster/desired/services\ntopic deny fleet/v1/cluster/desired/peers\n');
  });

  it('hashes passwords in the $7$ PBKDF2-SHA512 format mosquitto_passwd writes', () => {
    const salt = Buffer.alloc(12, 7);
    const line = mosquittoPasswordLine('node-a', 's3cret', salt);
    const [user, , scheme, iterations, saltB64, hashB64] = line.split(/[:$]/);
    expect([user, scheme, iterations, saltB64]).toEqual(['node-a', '7', '101', salt.toString('base64')]);
    expect(hashB64).toBe(pbkdf2Sync('s3cret', salt, 101, 64, 'sha512').toString('base64'));
  });

  it('refuses usernames that would widen an ACL pattern', () => {
    expect(() => mosquittoPasswordLine('a/#', 'x')).toThrow(InvalidMosquittoUserError);
    expect(() => mosquittoAcl(['cp+'])).toThrow(InvalidMosquittoUserError);
  });
});
