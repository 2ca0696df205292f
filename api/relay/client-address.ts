import { BlockList, isIP } from 'node:net';

/**
 * The client address a socket's limits count against. It is the TCP peer, unless that peer is one
 * of `RELAY_TRUSTED_PROXIES`: then `X-Forwarded-For` is read from the right, skipping the trusted
 * proxies, and the first other address is the client's (a client can prepend anything to the
 * header, but not what our own proxies appended). Without trusted proxies, every client behind a
 * proxy has the proxy's address. An IPv6 client counts as its /64: one subscriber usually gets a
 * whole /64 and could otherwise take a new address for every socket.
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
    if (trusted.length > 0 && forwardedFor) {
      const hops = forwardedFor.split(',').map((s) => normalize(s.trim()));
      while (isTrusted(client) && hops.length > 0) {
        const next = hops.pop()!;
        if (!isIP(next)) break;
        client = next;
      }
    }
    return isIP(client) === 6 ? prefix64(client) : client;
  };
}

/** The first four groups of an IPv6 address, written out: `2001:db8::1` → `2001:db8:0:0::/64`. */
function prefix64(address: string): string {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
