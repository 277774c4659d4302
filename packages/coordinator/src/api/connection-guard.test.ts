import { describe, expect, it } from 'vitest';
import { bodyVerdict, ClientConnections, type ConnectionLimits, clientAddress } from './connection-guard.ts';

const LIMITS: ConnectionLimits = { bodyTimeoutSeconds: 30, minBodyBytesPerSecond: 1024, maxConnectionsPerClient: 2 };

describe('bodyVerdict', () => {
  it('cuts off a body that sent less than the minimum rate over the period, however steadily', () => {
    // A byte every 2 s: 15 bytes in 30 s.
    expect(bodyVerdict({ complete: false, bytes: 15, backlogged: false }, LIMITS)).toBe('cut-off');
    expect(bodyVerdict({ complete: false, bytes: 30 * 1024 - 1, backlogged: false }, LIMITS)).toBe('cut-off');
  });

  it('lets a body at the minimum rate or faster go on, for as long as it takes', () => {
    expect(bodyVerdict({ complete: false, bytes: 30 * 1024, backlogged: false }, LIMITS)).toBe('again');
    expect(bodyVerdict({ complete: false, bytes: 10 * 1024 ** 3, backlogged: false }, LIMITS)).toBe('again');
  });

  it('does not judge the client while the coordinator is the one behind, nor a body that has arrived', () => {
    expect(bodyVerdict({ complete: false, bytes: 0, backlogged: true }, LIMITS)).toBe('again');
    expect(bodyVerdict({ complete: true, bytes: 0, backlogged: false }, LIMITS)).toBe('done');
  });
});

describe('clientAddress', () => {
  it('writes an IPv4 client seen through an IPv6 socket as IPv4, and keeps IPv6 as it is', () => {
    expect(clientAddress('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5')).toBe('10.0.0.5');
    expect(clientAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(clientAddress('::ffff:2001:db8::1')).toBe('::ffff:2001:db8::1');
    expect(clientAddress(undefined)).toBe('unknown');
  });
});

describe('ClientConnections', () => {
  it('admits up to the cap per address, each address on its own, and again once one closes', () => {
    const clients = new ClientConnections();
    expect(clients.admit('a', 2)).toBe(true);
    expect(clients.admit('a', 2)).toBe(true);
    expect(clients.admit('a', 2)).toBe(false);
    expect(clients.admit('b', 2)).toBe(true);
    clients.release('a');
    expect(clients.admit('a', 2)).toBe(true);
    expect(clients.admit('a', 2)).toBe(false);
  });

  it('has no cap at 0', () => {
    const clients = new ClientConnections();
    expect(Array.from({ length: 1000 }, () => clients.admit('a', 0)).every(Boolean)).toBe(true);
  });
});
