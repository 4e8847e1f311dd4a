import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Address ranges a push POST must never reach: the relay's own host and network, link-local
 * and cloud metadata addresses, carrier-grade NAT, multicast and reserved space. A push
 * endpoint is checked by name when it is registered (push-endpoint.ts); this closes the
 * rest — a public-looking host NAME that resolves to one of these (DNS rebinding included,
 * since the check is made on the address the socket actually connects to).
 */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');
}
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether `address` (an IP literal) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // BlockList also applies the IPv4 ranges to IPv4-mapped IPv6 addresses (::ffff:a.b.c.d).
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class NonPublicAddressError extends Error {
  readonly code = 'EPUSHADDRESS';
  override readonly name = 'NonPublicAddressError';
}

type Resolve = (hostname: string, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolve: Resolve = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/**
 * A `lookup` for the push request's socket: resolves the host and connects only to a
 * public address (every address the name resolves to must be public, so a name that mixes
 * a public and a private address is refused too). With `allowLoopback` (test
 * configurations only) a loopback address passes as well.
 */
export function publicAddressLookup(allowLoopback: boolean, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((a) => !isPublicAddress(a.address) && !(allowLoopback && LOOPBACK.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4')));
      if (refused || !addresses.length) return callback(new NonPublicAddressError(`push host ${hostname} resolves to a non-public address`), '', 0);
      const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
      const chosen = wanted[0] ?? addresses[0]!;
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted.length ? wanted : addresses);
      callback(null, chosen.address, chosen.family);
    });
  };
}
