import { execFileSync } from "node:child_process"

/**
 * A bridge in this network namespace and `count` namespaces, each joined to it by a veth pair:
 * `10.213.S.1` here (where PostgreSQL and the run are), `10.213.S.(i+2)` in namespace i. Traffic
 * between namespaces and to this one goes over the veths, not a shared loopback.
 */
export interface Network {
  readonly subnet: string
  readonly hostAddress: string
  readonly namespaces: ReadonlyArray<{ readonly name: string; readonly address: string; readonly hostVeth: string }>
  readonly remove: () => void
}

const ip = (...args: Array<string>) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] })

/** Why namespaces cannot be made here (not root, no `ip`, no CAP_SYS_ADMIN), or undefined when they can. */
export const unavailable = (): string | undefined => {
  if (process.getuid?.() !== 0) return "network namespaces need root"
  const probe = `efprobe${process.pid % 100000}`
  try {
    ip("netns", "add", probe)
    ip("netns", "del", probe)
    return undefined
  } catch (e) {
    return `'ip netns add' failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || String(e)}`
  }
}

export const makeNetwork = (count: number): Network => {
  const tag = process.pid % 10000
  const s = 10 + (process.pid % 240)
  const subnet = `10.213.${s}.0/24`
  const bridge = `efbr${tag}`
  const namespaces = Array.from({ length: count }, (_, i) => ({ name: `ef${tag}n${i}`, address: `10.213.${s}.${i + 2}`, hostVeth: `efv${tag}h${i}` }))
  const remove = () => {
    for (const n of namespaces) {
      try {
        ip("netns", "del", n.name) // takes its veth end, and so the pair, with it
      } catch {}
    }
    try {
      ip("link", "del", bridge)
    } catch {}
  }
  try {
    ip("link", "add", bridge, "type", "bridge")
    ip("addr", "add", `10.213.${s}.1/24`, "dev", bridge)
    ip("link", "set", bridge, "up")
    namespaces.forEach((n, i) => {
      const peer = `efv${tag}p${i}`
      ip("netns", "add", n.name)
      ip("link", "add", n.hostVeth, "type", "veth", "peer", "name", peer)
      ip("link", "set", n.hostVeth, "master", bridge)
      ip("link", "set", n.hostVeth, "up")
      ip("link", "set", peer, "netns", n.name)
      ip("-n", n.name, "addr", "add", `${n.address}/24`, "dev", peer)
      ip("-n", n.name, "link", "set", peer, "up")
      ip("-n", n.name, "link", "set", "lo", "up")
    })
  } catch (e) {
    remove()
    throw e
  }
  return { subnet, hostAddress: `10.213.${s}.1`, namespaces, remove }
}

/** Bytes that crossed a host-side veth (both directions), from the kernel's counters. */
export const vethBytes = (veth: string): number => {
  const stat = (name: string) => Number(execFileSync("cat", [`/sys/class/net/${veth}/statistics/${name}`], { encoding: "utf8" }).trim())
  return stat("rx_bytes") + stat("tx_bytes")
}
