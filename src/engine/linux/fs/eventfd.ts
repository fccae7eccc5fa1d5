// eventfd (fs/eventfd.c): a counter one side signals and another waits on. A signal wakes the waiters
// synchronously (wake_up_locked_poll): a KVM irqfd or a VFIO virqfd consumes the count at once; with no
// waiter the count accumulates until user space reads it. The process's fd table is modelled too,
// because VFIO tells a closed fd (EBADF) from an open fd that is not an eventfd (EINVAL).

import { placeSite, type Engine } from '../../engine.ts';
import { HOP } from '../../hops.ts';
import { defineDetail, OUT } from '../../sim/trace.ts';
import type { EventfdState } from '../../types.ts';
import { raise } from '../../errno.ts';
import { irqfdInject } from '../virt/kvm/eventfd.ts';
import { vfioVirqfdWakeup } from '../drivers/vfio/pci/vfio_pci_intrs_intx.ts';
import { EV_VMM_INTERRUPT } from '../../qemu/hw/vfio/pci.ts';

/** fds a VMM process holds before it creates eventfds: stdio, /dev/vfio/vfio, the group, the device. */
export const NON_EVENTFD_FDS: Record<number, string> = {
  0: 'stdin',
  1: 'stdout',
  2: 'stderr',
  3: '/dev/vfio/vfio',
  4: '/dev/vfio/<group>',
  5: 'VFIO device fd',
};
export const FIRST_EVENTFD = 6;

export function eventfdCreate(e: Engine, label = ''): EventfdState {
  const fd = e.state.next_fd++;
  const efd: EventfdState = { fd, count: 0, count_irqs: [], reader_irq: 0, label };
  e.state.eventfds[fd] = efd;
  return efd;
}

// fs/eventfd.c: eventfd_ctx_fdget: EBADF for a closed fd, EINVAL for an open fd that is not an eventfd
export function eventfdCtxFdget(e: Engine, fd: number, field = 'fd'): EventfdState {
  const efd = e.state.eventfds[fd];
  if (efd) return efd;
  if (fd in NON_EVENTFD_FDS) raise('EINVAL', `fd ${fd} (${NON_EVENTFD_FDS[fd]}) is not an eventfd`, field);
  raise('EBADF', `fd ${fd} is not open`, field);
}

export function eventfdIsValid(e: Engine, fd: number): boolean {
  return e.state.eventfds[fd] !== undefined;
}

/**
 * eventfd_signal for interrupt `irq` coming from node `from`. Waiters run in the caller's context; the
 * next hop (irqfd injection, QEMU's handler) is queued.
 */
export function eventfdSignal(e: Engine, irq: number, fd: number, fromNode: string | number): void {
  const efd = e.state.eventfds[fd];
  const irqfd = e.state.kvm.irqfds[fd];
  if (efd && irqfd) {
    // virt/kvm/eventfd.c: irqfd_wakeup reads the counter (eventfd_ctx_do_read) and injects: what was
    // counted before (left by an irqfd assigned on a signalled eventfd) is consumed with this signal
    if (efd.count > 0) irqfdReadsCount(e, efd, fd, irq);
    const from = typeof fromNode === 'number' ? fromNode : e.sid(fromNode);
    e.hopf(H_SIGNAL, irq, from, e.ids.irqfd, OUT.forwarded, F_IRQFD, fd, irqfd.gsi, 0);
    irqfdInject(e, irq, irqfd.gsi, e.cost.eventfd, irqfd.resamplefd !== undefined);
    return;
  }
  return eventfdSignalSlow(e, irq, fd, fromNode, efd);
}

/** irqfd_wakeup's eventfd_ctx_do_read: what was counted before merges into this signal. */
function irqfdReadsCount(e: Engine, efd: EventfdState, fd: number, irq: number): void {
  const counted = efd.reader_irq ? [efd.reader_irq, ...efd.count_irqs] : efd.count_irqs;
  for (const c of counted) {
    e.hop(
      'eventfd.signal',
      c,
      'eventfd',
      'irqfd',
      'coalesced',
      `eventfd ${fd}: read with #${irq} by irqfd_wakeup`,
    );
    e.coalesced(c, irq, `eventfd ${fd} counter`);
  }
  efd.count = 0;
  efd.count_irqs = [];
  efd.reader_irq = 0;
}

function eventfdSignalSlow(
  e: Engine,
  irq: number,
  fd: number,
  fromNode: string | number,
  efd: EventfdState | undefined,
): void {
  const from = typeof fromNode === 'number' ? e.trace.strings.list[fromNode] : fromNode;
  if (!efd) {
    e.hop('eventfd.signal', irq, from, 'eventfd', 'dropped', `fd ${fd} was closed`);
    e.dropped(irq, 'eventfd closed');
    return;
  }
  if (vfioVirqfdWakeup(e, irq, fd, from)) return;
  const qemu = qemuListener(e, fd);
  if (qemu) {
    // QEMU's main loop reads the eventfd later (vfio_msi_interrupt: event_notifier_test_and_clear):
    // signals that arrive before it runs are one notification.
    if (efd.reader_irq) {
      const into = efd.reader_irq;
      efd.count++;
      e.hop(
        'eventfd.signal',
        irq,
        from,
        'vmm',
        'coalesced',
        `eventfd ${fd} already signalled by #${into}: QEMU reads it once`,
      );
      e.coalesced(irq, into, `eventfd ${fd} counter`);
      return;
    }
    efd.count = 1;
    efd.reader_irq = irq;
    e.hop(
      'eventfd.signal',
      irq,
      from,
      'vmm',
      'forwarded',
      `eventfd ${fd}: QEMU's vfio_msi_interrupt for ${qemu.device} vector ${qemu.vector}`,
    );
    e.schedule(e.cost.qemu, EV_VMM_INTERRUPT, irq, e.deviceOrdinal(qemu.device), qemu.vector);
    return;
  }
  efd.count++;
  efd.count_irqs.push(irq);
  e.hopf(H_COUNT, irq, e.sid(from), e.ids.eventfd, OUT.pending, F_COUNT, fd, efd.count, 0);
  e.pending(irq, e.place(P_COUNTER, fd, 0, counterPlace));
}

const H_SIGNAL = HOP['eventfd.signal'];
const F_IRQFD = defineDetail((fd, gsi) => `eventfd ${fd}: irqfd wakes, GSI ${gsi}`);
const P_COUNTER = placeSite();
const counterPlace = (_e: Engine, fd: number): string => `eventfd ${fd} counter`;
const H_COUNT = HOP['eventfd.count'];
const F_COUNT = defineDetail((fd, count) => `eventfd ${fd} counter ${count}: no irqfd, waits for a reader`);

function qemuListener(e: Engine, fd: number): { device: string; vector: number } | null {
  for (const dev of Object.values(e.state.vmm)) {
    const vector = dev.vectors.findIndex((v) => v.interrupt === fd);
    if (vector >= 0) return { device: dev.device, vector };
  }
  return null;
}

/** close(2): what was counted and not read is gone; an irqfd on it is released (irqfd_shutdown). */
export function eventfdClose(e: Engine, fd: number, why: string): void {
  const efd = e.state.eventfds[fd];
  if (!efd) return;
  for (const irq of efd.reader_irq ? [efd.reader_irq, ...efd.count_irqs] : efd.count_irqs) {
    e.hop(
      'eventfd.count',
      irq,
      'eventfd',
      'eventfd',
      'dropped',
      `eventfd ${fd} closed with its count unread`,
    );
    e.dropped(irq, why);
  }
  delete e.state.kvm.irqfds[fd];
  delete e.state.eventfds[fd];
}

/** read(2) on the eventfd: returns the counter and resets it; what was counted is consumed by user space. */
export function eventfdRead(e: Engine, fd: number): number {
  const efd = eventfdCtxFdget(e, fd);
  const n = efd.count;
  if (efd.reader_irq) {
    // read before QEMU's handler ran: the reader gets it, QEMU's handler will find nothing
    efd.count_irqs.unshift(efd.reader_irq);
    efd.reader_irq = 0;
  }
  for (const irq of efd.count_irqs) {
    e.hop('eventfd.read', irq, 'eventfd', 'vmm', 'delivered', `eventfd ${fd}: user space read ${n}`);
    e.delivered(irq, `read by user space from eventfd ${fd}`);
  }
  efd.count = 0;
  efd.count_irqs = [];
  return n;
}

/** The count of `fd` is read by the kernel itself (irqfd_shutdown): what was counted is consumed. */
export function eventfdDrainCount(e: Engine, fd: number, why: string): void {
  const efd = e.state.eventfds[fd];
  if (!efd || efd.count === 0) return;
  for (const irq of efd.reader_irq ? [efd.reader_irq, ...efd.count_irqs] : efd.count_irqs) {
    e.hop('eventfd.count', irq, 'eventfd', 'irqfd', 'dropped', `eventfd ${fd}: ${why}`);
    e.dropped(irq, 'eventfd count read by irqfd_shutdown');
  }
  efd.count = 0;
  efd.count_irqs = [];
  efd.reader_irq = 0;
}
