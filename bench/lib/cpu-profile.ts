/** @module bench/cpu-profile — reads a V8 `.cpuprofile`: self time per function, total time per src/ function. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const where = (node: ProfileNode) => {
  const url = node.callFrame.url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/work\/main\//, "")
    .replace(/\?.*$/, "");
  return `${node.callFrame.functionName || "(anonymous)"} ${url}:${node.callFrame.lineNumber + 1}`;
};

export function summarizeProfile(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sum = 0;
  for (const [id, us] of selfUs) {
    sum += us;
    const node = byId.get(id) as ProfileNode;
    self.set(where(node), (self.get(where(node)) ?? 0) + us);
    // Count each src/ frame once per sample stack, however deep the recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at) as ProfileNode;
      const name = where(frame);
      if (/(^|[ /])(src|skills)\//.test(name) && !seen.has(name)) {
        seen.add(name);
        total.set(name, (total.get(name) ?? 0) + us);
      }
    }
  }
  const list = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, us]) =>
          `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / sum).toFixed(1).padStart(5)}%  ${name}`,
      );
  return [
    `profiled ${(sum / 1000).toFixed(0)} ms`,
    "",
    "self time:",
    ...list(self),
    "",
    "total time in src/ and skills/ functions:",
    ...list(total),
    "",
  ].join("\n");
}
