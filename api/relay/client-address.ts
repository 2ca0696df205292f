import { BlockList, isIP } from 'node:net';

/**
 * The client address a socket's limits count against. It is the TCP peer, unless that peer is one
 * of `RELAY_TRUSTED_PROXIES`: then `X-Forwarded-For` is read from the right, skipping the trusted
 * proxies, and the first other address is the client's (a client can prepend anything to the
 * header, but not what our own proxies appended). Without trusted proxies, every client behind a
 * proxy has the proxy's address.
 */
export function createClientAddress(
  trusted: readonly string[],
): (peer: string | undefined, forwardedFor: string | undefined) => string {
  const list = new BlockList();
  for (const entry of trusted) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  const isTrusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
  return (peer, forwardedFor) => {
    // IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d; one key per client either way.
    let client = normalize(peer ?? '');
    if (trusted.length === 0 || !forwardedFor) return client;
    const hops = forwardedFor.split(',').map((s) => normalize(s.trim()));
    while (isTrusted(client) && hops.length > 0) {
      const next = hops.pop()!;
      if (!isIP(next)) break;
      client = next;
    }
    return client;
  };
}

function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
