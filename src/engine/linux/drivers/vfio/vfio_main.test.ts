// drivers/vfio/vfio_main.c: vfio_set_irqs_validate_and_prepare, in the kernel's order.
import { describe, expect, it } from 'vitest';
import { parseFlags, parseIndex, vfioSetIrqsValidate } from './vfio_main.ts';

const hdr = (o: Partial<{ argsz: number; flags: number; index: number; start: number; count: number }>) => ({
  argsz: 20,
  flags: 0x21,
  index: 2,
  start: 0,
  count: 1,
  ...o,
});

describe('vfio_set_irqs_validate_and_prepare', () => {
  it('accepts a well-formed header', () => {
    expect(vfioSetIrqsValidate(hdr({}), 5, 5)).toBeNull();
    expect(vfioSetIrqsValidate(hdr({ flags: 0x24, count: 2, argsz: 28 }), 5, 5)).toBeNull();
  });

  it('names the field of each failure', () => {
    expect(vfioSetIrqsValidate(hdr({ argsz: 19 }), 5, 5)?.field).toBe('argsz');
    expect(vfioSetIrqsValidate(hdr({ index: 5 }), 5, 5)?.field).toBe('index');
    expect(vfioSetIrqsValidate(hdr({ start: 0xffffffff, count: 2 }), 5, 5)?.field).toBe('count');
    expect(vfioSetIrqsValidate(hdr({ flags: 0x61 }), 5, 5)?.field).toBe('flags');
    expect(vfioSetIrqsValidate(hdr({ start: 5, count: 0 }), 5, 5)?.field).toBe('start');
    expect(vfioSetIrqsValidate(hdr({ flags: 0x23 }), 5, 5)?.field).toBe('flags');
    expect(vfioSetIrqsValidate(hdr({ flags: 0x24, count: 2, argsz: 27 }), 5, 5)?.field).toBe('argsz');
  });

  it('checks the header before the range, and the range before the data type', () => {
    // Both argsz and start are bad: the header check wins.
    expect(vfioSetIrqsValidate(hdr({ argsz: 4, start: 9 }), 5, 5)?.field).toBe('argsz');
    // Start and data type both bad: the range wins.
    expect(vfioSetIrqsValidate(hdr({ start: 9, flags: 0x23 }), 5, 5)?.field).toBe('start');
  });

  it('rejects everything on an index with no interrupts, even count 0', () => {
    expect(vfioSetIrqsValidate(hdr({ count: 0 }), 0, 5)?.field).toBe('start');
  });

  it('parses flags and indexes by name or number', () => {
    expect(parseFlags('EVENTFD|TRIGGER')).toBe(0x24);
    expect(parseFlags('VFIO_IRQ_SET_DATA_NONE|VFIO_IRQ_SET_ACTION_MASK')).toBe(0x09);
    expect(parseFlags('TRIGGER|0x40')).toBe(0x60);
    expect(parseFlags('BOGUS')).toBeNull();
    expect(parseIndex('MSIX')).toBe(2);
    expect(parseIndex('VFIO_PCI_REQ_IRQ_INDEX')).toBe(4);
    expect(parseIndex(7)).toBe(7);
  });
});
