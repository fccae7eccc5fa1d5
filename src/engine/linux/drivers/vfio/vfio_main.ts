// The VFIO IRQ uAPI as include/uapi/linux/vfio.h defines it, and the generic validation of
// VFIO_DEVICE_SET_IRQS (drivers/vfio/vfio_main.c: vfio_set_irqs_validate_and_prepare).

export const VFIO_IRQ_INFO_EVENTFD = 1 << 0;
export const VFIO_IRQ_INFO_MASKABLE = 1 << 1;
export const VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
export const VFIO_IRQ_INFO_NORESIZE = 1 << 3;

export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;
export const VFIO_IRQ_SET_DATA_TYPE_MASK =
  VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK =
  VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;

export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
export const VFIO_PCI_NUM_IRQS = 5;

/** offsetofend(struct vfio_irq_set, count): argsz, flags, index, start, count. */
export const VFIO_IRQ_SET_MINSZ = 20;
/** offsetofend(struct vfio_irq_info, count): argsz, flags, index, count. */
export const VFIO_IRQ_INFO_MINSZ = 16;

const U32_MAX = 0xffffffff;

export const FLAG_NAMES: Record<string, number> = {
  NONE: VFIO_IRQ_SET_DATA_NONE,
  BOOL: VFIO_IRQ_SET_DATA_BOOL,
  EVENTFD: VFIO_IRQ_SET_DATA_EVENTFD,
  MASK: VFIO_IRQ_SET_ACTION_MASK,
  UNMASK: VFIO_IRQ_SET_ACTION_UNMASK,
  TRIGGER: VFIO_IRQ_SET_ACTION_TRIGGER,
};
export const INDEX_NAMES: Record<string, number> = {
  INTX: VFIO_PCI_INTX_IRQ_INDEX,
  MSI: VFIO_PCI_MSI_IRQ_INDEX,
  MSIX: VFIO_PCI_MSIX_IRQ_INDEX,
  ERR: VFIO_PCI_ERR_IRQ_INDEX,
  REQ: VFIO_PCI_REQ_IRQ_INDEX,
};

export interface VfioIrqSet {
  argsz: number;
  flags: number;
  index: number;
  start: number;
  count: number;
}

/**
 * vfio_set_irqs_validate_and_prepare, check for check: returns null when valid, else the field at
 * fault. `numIrqs` is the index's count (vfio_pci_get_irq_count); all failures are EINVAL.
 */
export function vfioSetIrqsValidate(
  hdr: VfioIrqSet,
  numIrqs: number,
  maxIrqType: number,
): { field: string; message: string } | null {
  if (hdr.argsz < VFIO_IRQ_SET_MINSZ)
    return { field: 'argsz', message: `argsz ${hdr.argsz} is below the ${VFIO_IRQ_SET_MINSZ}-byte header` };
  if (hdr.index >= maxIrqType)
    return { field: 'index', message: `index ${hdr.index} >= ${maxIrqType} IRQ indexes` };
  if (hdr.count >= U32_MAX - hdr.start)
    return { field: 'count', message: `start ${hdr.start} + count ${hdr.count} overflows` };
  if (hdr.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK))
    return {
      field: 'flags',
      message: `flags 0x${hdr.flags.toString(16)} has bits outside DATA_* and ACTION_*`,
    };
  if (hdr.start >= numIrqs || hdr.start + hdr.count > numIrqs)
    return {
      field: 'start',
      message: `start ${hdr.start} count ${hdr.count} is outside the index's ${numIrqs} interrupts`,
    };
  const size = dataElementSize(hdr.flags);
  if (size < 0)
    return { field: 'flags', message: 'flags must name exactly one of DATA_NONE, DATA_BOOL, DATA_EVENTFD' };
  if (size > 0 && hdr.argsz - VFIO_IRQ_SET_MINSZ < hdr.count * size)
    return {
      field: 'argsz',
      message: `argsz ${hdr.argsz} leaves ${hdr.argsz - VFIO_IRQ_SET_MINSZ} bytes for ${hdr.count} x ${size}-byte data`,
    };
  return null;
}

/** Bytes per data element for the data type in flags, or -1 when it is not exactly one type. */
export function dataElementSize(flags: number): number {
  switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
    case VFIO_IRQ_SET_DATA_NONE:
      return 0;
    case VFIO_IRQ_SET_DATA_BOOL:
      return 1;
    case VFIO_IRQ_SET_DATA_EVENTFD:
      return 4;
    default:
      return -1;
  }
}

/** Parses `EVENTFD|TRIGGER`, `0x24` or a number, as the probe and scenarios write flags. */
export function parseFlags(v: string | number): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= U32_MAX ? v : null;
  let f = 0;
  for (const t of v.split('|')) {
    const name = t
      .trim()
      .toUpperCase()
      .replace(/^VFIO_IRQ_SET_(DATA|ACTION)_/, '');
    if (Object.hasOwn(FLAG_NAMES, name)) f |= FLAG_NAMES[name];
    else {
      // a u32 (struct vfio_irq_set.flags): a negative or wider number is malformed, not wrapped
      const n = parseCInt(t.trim());
      if (n === null || !Number.isSafeInteger(n) || n < 0 || n > U32_MAX) return null;
      f |= n;
    }
  }
  return f >>> 0;
}

export function parseIndex(v: string | number): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= U32_MAX ? v : null;
  const name = v
    .trim()
    .toUpperCase()
    .replace(/^VFIO_PCI_/, '')
    .replace(/_IRQ_INDEX$/, '');
  if (Object.hasOwn(INDEX_NAMES, name)) return INDEX_NAMES[name];
  return parseCInt(v);
}

/** strtoul-like: decimal, 0x hex, 0 octal; null when it is not a number. */
export function parseCInt(s: string): number | null {
  const t = s.trim();
  if (/^-?0x[0-9a-f]+$/i.test(t) || /^-?[0-9]+$/.test(t)) {
    const neg = t.startsWith('-');
    const body = neg ? t.slice(1) : t;
    const n = /^0x/i.test(body)
      ? parseInt(body, 16)
      : /^0[0-7]+$/.test(body)
        ? parseInt(body, 8)
        : parseInt(body, 10);
    return neg ? -n : n;
  }
  return null;
}
