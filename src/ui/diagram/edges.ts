// Every edge an interrupt (or a control-plane call) can take in a topology, drawn before anything
// moves. The table holds the hops the engine records, by node kind (`D` a device, `N` a vCPU): it was
// read from the trace of every library scenario plus MSI, and a hop the table lacks is added to the
// drawing the first time the trace uses it (view.ts), so the picture never hides a path.

import type { TracePath } from '../../engine/index.ts';
import type { Layout } from './layout.ts';

export interface Edge {
  from: string;
  to: string;
  path: TracePath;
}

const TABLE = `
dev:D hostirq direct
dev:D ims:D direct
dev:D intx:D direct
dev:D msix:D direct
eventfd vmm direct
guest dev:D direct
guest kvm intercepted
guest lapic:N direct
guest lapic:N emulated
guest lapic:N posted
guest vmm control
hostirq vfio:D direct
ims:D iommu direct
iommu hostirq direct
iommu pi:N posted
irqfd kvm direct
irqfd kvm emulated
kvm lapic:N direct
kvm lapic:N emulated
kvm vmm intercepted
lapic:N guest direct
lapic:N guest emulated
lapic:N guest posted
msix:D iommu direct
pi:N lapic:N posted
vdev:D vfio:D emulated
vfio:D hostirq control
vfio:D iommu control
vfio:D vfio:D/emulated control
vfio:D vfio:D/emulated emulated
vfio:D vfio:D/ims control
vfio:D vfio:D/ims direct
vfio:D vfio:D/intx control
vfio:D vfio:D/intx direct
vfio:D vfio:D/msix control
vfio:D vfio:D/msix direct
vfio:D/emulated irqfd emulated
vfio:D/ims irqfd direct
vfio:D/ims vmm direct
vfio:D/intx eventfd direct
vfio:D/msix eventfd direct
vfio:D/msix irqfd direct
vfio:D/msix vmm direct
vmm irqfd control
vmm kvm control
vmm kvm direct
vmm msix:D control
vmm vdev:D intercepted
vmm vfio:D control
vmm vfio:D/intx emulated
dev:D msi:D direct
msi:D iommu direct
vfio:D vfio:D/msi direct
vfio:D vfio:D/msi control
vfio:D/msi irqfd direct
vfio:D/msi eventfd direct
vfio:D/ims eventfd direct
`
  .trim()
  .split('\n')
  .map((l) => l.split(' ') as [string, string, TracePath]);

/** The table's edges whose two ends are boxes of this layout. */
export function topologyEdges(l: Layout, devices: readonly string[], vcpus: number): Edge[] {
  const out: Edge[] = [];
  const seen = new Set<string>();
  const expand = (id: string, d: string, n: number) => id.replace(':D', `:${d}`).replace(':N', `:${n}`);
  for (const [from, to, path] of TABLE) {
    const ds = from.includes(':D') || to.includes(':D') ? devices : [''];
    const ns = from.includes(':N') || to.includes(':N') ? [...Array(vcpus).keys()] : [0];
    for (const d of ds)
      for (const n of ns) {
        const e = { from: expand(from, d, n), to: expand(to, d, n), path };
        const key = `${e.from}>${e.to}>${path}`;
        if (seen.has(key) || !l.byId.has(e.from) || !l.byId.has(e.to)) continue;
        seen.add(key);
        out.push(e);
      }
  }
  return out;
}
