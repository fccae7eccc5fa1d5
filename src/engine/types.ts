// The engine's plain-JSON types: topology in, commands in, results and trace events out, snapshots.
// Field names follow the kernel and the PCI specification (pba, vector_ctrl, irq_type, trigger, irr, isr).

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type KernelProfile = '6.1' | '6.12';
/**
 * The design of the VFIO interrupt front end: the merged code, or one of the four unmerged generations of
 * the IMS / interrupt-context series (src/engine/linux/drivers/vfio/pci/designs.ts, docs/kernel-notes.md section E).
 */
export type DesignGeneration = 'merged' | 'rfc-v1' | 'rfc-v2' | 'rfc-v3' | 'cleanup-2024';

// ---------------------------------------------------------------- topology

export interface MsixTopology {
  /** Number of table entries (Message Control encodes it as N-1). */
  table_size: number;
  table_bir?: number;
  table_offset?: number;
  pba_bir?: number;
  pba_offset?: number;
  /** Config-space offset of the MSI-X capability (e1000e: 0xa0); default 0x70. */
  cap?: number;
}
export interface MsiTopology {
  /** Multiple Message Capable, as a count: 1, 2, 4, ..., 32. */
  vectors: number;
  addr64?: boolean;
  per_vector_mask?: boolean;
  /** Config-space offset of the MSI capability (e1000e: 0xd0); default 0x50. */
  cap?: number;
}
export interface PciDeviceTopology {
  name: string;
  bdf?: string;
  vendor?: number;
  device?: number;
  /** PCI Express (has the ERR index in VFIO) or conventional PCI. */
  pcie?: boolean;
  /** Interrupt pin: 0 none, 1..4 = INTA..INTD. */
  intx_pin?: number;
  /**
   * false: the pin exists but the platform routes no IRQ to it (pdev->irq is IRQ_NOTCONNECTED, or 0): vfio-pci
   * shows the function as having no INTx (vfio_config_init virtualizes the Interrupt Pin to 0).
   */
  intx_routed?: boolean;
  /**
   * The guest GSI the VM's chipset routes this pin to (QEMU: pci_device_route_intx_to_irq; i440FX with
   * SeaBIOS gives 10 or 11, q35 16..23). With it QEMU accelerates INTx through KVM's in-kernel IO-APIC
   * (vfio_intx_enable_kvm: a resample irqfd); without it INTx stays in QEMU (vfio_intx_interrupt).
   */
  guest_intx_gsi?: number;
  msix?: MsixTopology | null;
  msi?: MsiTopology | null;
  /** Interrupt Message Store: device-specific, not in config space. */
  ims?: { size: number } | null;
  /** Assigned to the VM through vfio-pci (default true unless it only parents virtual devices). */
  passthrough?: boolean;
  /** The command register as firmware left it when vfio-pci opens the device (default 0x0006). */
  command?: number;
  /** A device model with registers in BAR0: 'e1000e' has its interrupt cause registers (ICR, ICS, IMS, IMC, IVAR). */
  model?: 'e1000e';
}
export type VectorBackend = 'ims' | 'emulated';
export interface VirtualDeviceTopology {
  name: string;
  /** The PCI device whose resources make up this virtual device (its IMS, its work queue). */
  parent: string;
  /** What the virtual device driver emulates; 'idxd-wq' is an IDXD/DSA work queue composed as a device. */
  kind: 'idxd-wq';
  /** Work queue index in the parent. */
  wq: number;
  /** Backend per virtual MSI-X vector; IDXD: vector 0 emulated, vector 1 backed by an IMS entry. */
  vectors: VectorBackend[];
  /** IMS cookie (PASID / queue id) used when allocating from the parent's IMS domain. */
  cookie?: number;
}
export interface Topology {
  profile?: KernelProfile;
  design?: DesignGeneration;
  /**
   * irte_entries: how many entries of the remapping table are free for this VM's devices (default
   * INTR_REMAP_TABLE_ENTRIES, 65536); fewer makes pci_alloc_irq_vectors grant fewer vectors than asked.
   */
  iommu?: { interrupt_remapping?: boolean; posted_interrupts?: boolean; irte_entries?: number };
  /** apicv: APIC virtualization (VMX enable_apicv); default: on when posted interrupts are. */
  vm?: { vcpus?: number; apicv?: boolean };
  /**
   * cpus: host CPUs whose vectors the host IRQ layer hands out (default 8).
   * msix_alloc_dyn: the MSI-X domain can allocate after enable (pci_msix_can_alloc_dyn; default true on
   * 6.12, which has it through MSI_FLAG_PCI_MSIX_ALLOC_DYN; false models a parent domain without it).
   * intx_handler: 'persistent' (the 2024 "Interrupt eventfd hardening", in both modelled kernels) or
   * 'per-trigger' (upstream v6.1.0 before it: the handler is requested with each trigger eventfd).
   */
  host?: { cpus?: number; msix_alloc_dyn?: boolean; intx_handler?: 'persistent' | 'per-trigger' };
  devices: PciDeviceTopology[];
  vdevs?: VirtualDeviceTopology[];
}

// ---------------------------------------------------------------- state (snapshot)

export interface MsixEntry {
  addr_lo: number;
  addr_hi: number;
  data: number;
  /** Bit 0: Mask. Entries reset masked. */
  vector_ctrl: number;
}
export interface MsixState {
  table_size: number;
  /** Message Control bit 15. */
  enable: boolean;
  /** Message Control bit 14. */
  function_mask: boolean;
  table_bir: number;
  table_offset: number;
  pba_bir: number;
  pba_offset: number;
  /** Config-space offset of the capability. */
  cap: number;
  table: MsixEntry[];
  pba: boolean[];
  /** For each set PBA bit, the interrupt id waiting there (conservation bookkeeping, not hardware). */
  pba_irq: number[];
}
export interface MsiState {
  /** Config-space offset of the capability. */
  cap: number;
  /** Multiple Message Capable as a count. */
  mmc: number;
  /** Multiple Message Enable as a count. */
  mme: number;
  enable: boolean;
  addr64: boolean;
  per_vector_mask: boolean;
  address: number;
  address_hi: number;
  data: number;
  mask_bits: number;
  pending_bits: number;
  /** Interrupt id waiting behind each pending bit (conservation bookkeeping). */
  pending_irq: number[];
}
export interface IntxState {
  /** 0 none, 1..4 INTA..INTD. */
  pin: number;
  /** The platform routes no IRQ to the pin (pdev->irq IRQ_NOTCONNECTED); absent when it does. */
  not_connected?: true;
  /** The device drives its INTx line (level). */
  asserted: boolean;
  /** The interrupt the condition (Interrupt Status) stands for; a second event merges into it. */
  asserted_irq: number;
  /** The interrupt waiting at the pin, not yet taken by a host handler (DisINTx set, or no handler). */
  pending_irq: number;
}
export interface ImsEntry {
  address: number;
  address_hi: number;
  data: number;
  masked: boolean;
  pending: boolean;
  pending_irq: number;
  /** Device-specific tag (PASID, queue id). */
  cookie: number | null;
  /** The virtual device this entry backs, or null when free. */
  owner: string | null;
  /** Host IRQ number allocated from the IMS domain, or null. */
  host_irq: number | null;
}
export interface PciDeviceState {
  name: string;
  bdf: string;
  vendor: number;
  device: number;
  pcie: boolean;
  passthrough: boolean;
  /** Config space command register; bit 10 is Interrupt Disable (DisINTx). */
  command: number;
  /** Config space status register; bit 3 is Interrupt Status. */
  status: number;
  msix: MsixState | null;
  msi: MsiState | null;
  intx: IntxState;
  ims: { size: number; entries: ImsEntry[] } | null;
  /** e1000e's interrupt registers (BAR0), or null for a device without a register model. */
  e1000e: E1000eRegs | null;
}
/** hw/net/e1000e_core.c: the interrupt cause registers QEMU's e1000e keeps (core->mac[...]). */
export interface E1000eRegs {
  icr: number;
  ims: number;
  ivar: number;
  /** Causes an MSI or MSI-X message was already sent for (e1000e_send_msi: msi_causes_pending). */
  msi_causes_pending: number;
  /**
   * QEMU's PCIDevice.msix_entry_used for this emulated device: the use count of each MSI-X vector
   * (hw/pci/msix.c msix_vector_use; e1000e_init_msix uses all five); msix_notify ignores a vector at 0.
   */
  msix_entry_used: number[];
}
export interface VirtualDeviceState {
  name: string;
  parent: string;
  kind: 'idxd-wq';
  wq: number;
  cookie: number;
  /** icookie: the IMS cookie (PASID) the vector's next IMS allocation gets (vfio_pci_ims_set_cookie). */
  vectors: { backend: VectorBackend; ims_index: number | null; icookie: number }[];
  /** Emulated registers of the virtual BAR0 (the intercepted path). */
  regs: {
    cmd: number;
    cmdsts: number;
    wq_enabled: boolean;
    dev_enabled: boolean;
    /** INTCAUSE (IDXD_INTCAUSE_OFFSET): IDXD_INTC_CMD set by a completion that interrupts. */
    intcause: number;
    /** The virtual config space's PCI_COMMAND (vidxd->cfg): vidxd_enable needs Bus Master. */
    command: number;
  };
}

export interface Irte {
  index: number;
  present: boolean;
  /** 'remapped': to a host vector and CPU; 'posted': into a vCPU's posted-interrupt descriptor. */
  mode: 'remapped' | 'posted';
  vector: number;
  dest: number;
  /** Posted mode: the vCPU whose descriptor receives the interrupt, and the guest vector. */
  pi_vcpu: number | null;
  /** Requester id the IOMMU validates (source-id verification). */
  sid: string;
  /** Host IRQ this entry belongs to. */
  host_irq: number;
  /**
   * Padding of a multi-vector MSI block: alloc_irte reserves a power-of-two region (3 vectors take 4
   * entries), and the entries past the last vector stay reserved, not present. The block's first index.
   */
  block?: number;
}
export interface RemapFault {
  time: number;
  irq: number;
  index: number;
  reason: number;
  text: string;
}
export interface PiDesc {
  /** Posted Interrupt Requests: guest vectors outstanding. */
  pir: number[];
  /** The interrupt each PIR bit stands for, at the same index (conservation bookkeeping). */
  pir_irq: number[];
  on: boolean;
  sn: boolean;
  nv: number;
  ndst: number;
}
export interface HostIrq {
  irq: number;
  chip: 'PCI-MSIX' | 'PCI-MSI' | 'IO-APIC' | 'IR-PCI-MSIX' | 'IR-PCI-MSI' | 'IMS';
  /** The chip name /proc/interrupts shows (`IR-PCI-MSIX-0000:65:00.0` on 6.12, `IR-PCI-MSI` on 6.1, `IR-IO-APIC`). */
  chip_name: string;
  /** Only a global reservation holds a vector (x86 reservation mode): the real one comes at request_irq. */
  reserved: boolean;
  /** Reservation mode applies (MSI-X, IMS, MSI with per-vector masking): free_irq returns the vector. */
  can_reserve: boolean;
  device: string;
  /** MSI-X / MSI vector or IMS entry index. */
  hwirq: number;
  /** Action name once requested (`vfio-msix[3](0000:65:00.0)`), null while only allocated. */
  action: string | null;
  /** Host IDT vector and CPU. */
  vector: number;
  cpu: number;
  irte: number | null;
  /** Started (unmasked at the chip) because a handler is installed (request_irq / free_irq). */
  started: boolean;
  /** The VFIO device and vector whose handler is installed, or null. */
  owner: string | null;
  owner_vector: number;
  /** The cached message (get_cached_msi_msg), rewritten into the device at each activation. */
  msg_addr: number;
  msg_data: number;
  count: number;
}
export type VfioBackend = 'intx' | 'msi' | 'msix' | 'ims' | 'emulated';
export interface VfioIrqCtx {
  /** Trigger eventfd, as the fd number user space passed. */
  trigger: number | null;
  name: string | null;
  backend: VfioBackend;
  host_irq: number | null;
  /** An irq-bypass producer is registered for this vector (its token is the trigger eventfd). */
  producer: boolean;
  masked: boolean;
}
export interface VfioDeviceState {
  device: string;
  /** vfio-pci for a physical function, or the virtual device driver for a composed device. */
  driver: 'vfio-pci' | 'idxd-vdev';
  irq_type: 'none' | 'intx' | 'msi' | 'msix';
  /** Per-vector contexts (an xarray in 6.12, a fixed array sized at enable in 6.1). */
  ctx: Record<string, VfioIrqCtx>;
  /** 6.1: size of the context array allocated at enable; 6.12: number of vectors enabled at first. */
  num_ctx: number;
  /** Vectors marked emulated (vfio_pci_set_emulated): no host interrupt behind them. */
  emulated: number[];
  intx: { masked: boolean; unmask_fd: number | null; trigger: number | null; enabled: boolean };
  err_trigger: number | null;
  req_trigger: number | null;
  /**
   * vfio-pci's virtualized config space (vfio_pci_config.c: vconfig): the user's Interrupt Disable
   * (virq_disabled), and the MSI capability as the user wrote it (vfio_msi_config_write).
   */
  vconfig: {
    virq_disabled: boolean;
    msi_flags: number;
    msi_addr_lo: number;
    msi_addr_hi: number;
    msi_data: number;
    /** vdev->msi_qmax: log2 of the vectors of the last MSI enable, what the user reads as Multiple Message Capable. */
    msi_qmax: number;
  };
}
/** One line of the host kernel's log (linux/kernel/printk/printk.ts). */
export interface KernelLogLine {
  time: number;
  level: 'emerg' | 'err' | 'warn' | 'notice' | 'info';
  /** The function that prints it, with its source file. */
  fn: string;
  text: string;
}
export interface EventfdState {
  fd: number;
  /** The eventfd counter; a reader (user space) resets it. */
  count: number;
  /** Interrupts counted in `count` waiting for a reader. */
  count_irqs: number[];
  /** QEMU's handler is queued to read this eventfd for this interrupt; later signals merge into it. */
  reader_irq: number;
  /** What listens: a KVM irqfd, a VFIO virqfd (INTx unmask), or nothing (a user-space reader). */
  label: string;
}
export interface Lapic {
  /** Task Priority (APIC_TASKPRI): its class holds lower-class vectors in IRR. */
  tpr: number;
  /** Spurious Interrupt Vector register: bit 8 is APIC Software Enable. */
  svr: number;
  /** Logical Destination (bits 31:24 the logical id) and Destination Format (bits 31:28: 0xf flat, 0 cluster). */
  ldr: number;
  dfr: number;
  /** apic_arb_prio: lowest-priority arbitration without vector hashing; KVM_SET_LAPIC resets it. */
  arb_prio: number;
  irr: number[];
  isr: number[];
  /** Interrupt id per vector in IRR / ISR (conservation bookkeeping). */
  irr_irq: number[];
  isr_irq: number[];
}
export interface Vcpu {
  id: number;
  apic_id: number;
  state: 'running' | 'halted' | 'preempted';
  lapic: Lapic;
  pi: PiDesc;
  /** Guest vectors handled, by vector. */
  handled: Record<string, number>;
  /** An acceptance of the highest IRR vector is already scheduled. */
  accept_scheduled: boolean;
  /** The guest runs a hard-irq handler with interrupts disabled (IF=0) until its iret. */
  in_irq: boolean;
}
export interface GsiRoute {
  gsi: number;
  address_lo: number;
  address_hi: number;
  data: number;
}
export interface Irqfd {
  fd: number;
  gsi: number;
  /** KVM_IRQFD_FLAG_RESAMPLE: the eventfd irqfd_resampler_ack signals at the EOI (VFIO's INTx unmask). */
  resamplefd?: number;
}
/** One redirection entry of KVM's in-kernel IO-APIC (arch/x86/kvm/ioapic.c), and its line. */
export interface IoapicPin {
  vector: number;
  /** physical destination: an APIC id */
  dest: number;
  level: boolean;
  masked: boolean;
  remote_irr: boolean;
  /** the line's sources, OR-ed (__kvm_irq_line_state): 1 user space, 4 the resampler */
  line: number;
  /** the interrupt the pin delivered and waits to see EOI'd (level), or 0 */
  irq: number;
}
export interface VmmVector {
  /** KVM GSI (QEMU's virq) routed to this vector's guest MSI message, or null. */
  virq: number | null;
  /** QEMU's eventfds: `kvm_interrupt` goes to the irqfd (bypass), `interrupt` to QEMU's own handler. */
  kvm_interrupt: number | null;
  interrupt: number | null;
  /** Which eventfd VFIO currently signals for this vector. */
  vfio_fd: number | null;
  in_use: boolean;
}
export interface VmmDeviceState {
  device: string;
  /** The guest's view of MSI-X, emulated by QEMU (hw/pci/msix.c). */
  msix: MsixState;
  /** Vectors enabled on the host through VFIO (QEMU's nr_vectors). */
  nr_vectors: number;
  vectors: VmmVector[];
  /** vfio_realize ran (INTx enabled when the device has a pin). */
  realized: boolean;
  /** QEMU's vdev->interrupt: the interrupt type it set up through VFIO. */
  interrupt: 'none' | 'intx' | 'msix';
  /** QEMU's intx.interrupt eventfd (the INTx trigger), or null. */
  intx_interrupt: number | null;
  /** QEMU's intx.route.irq: the guest GSI of the pin (topology guest_intx_gsi), or null when unknown. */
  intx_route: number | null;
  /** QEMU's intx.unmask eventfd: the resamplefd of the KVM irqfd and VFIO's INTx unmask eventfd. */
  intx_unmask: number | null;
  /** QEMU's intx.kvm_accel: vfio_intx_enable_kvm succeeded. */
  intx_kvm_accel: boolean;
  /** Inside vfio_pci_prepare_kvm_msi_virq_batch .. commit: use notifiers add routes without SET_IRQS. */
  defer_kvm_irq_routing: boolean;
}
export interface VmmMsiVector {
  /** KVM GSI of the vector's MSI route (vfio_add_kvm_msi_virq), or null. */
  virq: number | null;
  /** QEMU's eventfd for the vector (its own handler, vfio_msi_interrupt) and the irqfd's. */
  interrupt: number | null;
  kvm_interrupt: number | null;
}
export interface VmmMsiState {
  device: string;
  /** The guest's virtual MSI capability as QEMU emulates it (hw/pci/msi.c): Enable, MME, message. */
  enable: boolean;
  mme: number;
  address: number;
  data: number;
  /** QEMU's nr_vectors for MSI: msi_nr_vectors_allocated, or what the kernel said it could give. */
  nr_vectors: number;
  vectors: VmmMsiVector[];
}
export interface GuestDriverState {
  device: string;
  /** Guest IDT vector programmed per MSI-X entry (data bits 7:0), and destination APIC id. */
  vectors: { vector: number; dest: number; enabled: boolean }[];
  /** Work submitted and not yet completed. */
  outstanding: number;
  completions: number;
}
export interface Counters {
  raised: number;
  delivered: number;
  coalesced: number;
  dropped: number;
  drop_reasons: Record<string, number>;
}
export type Fate = 'in-flight' | 'pending' | 'delivered' | 'coalesced' | 'dropped';
export interface InterruptRecord {
  id: number;
  source: string;
  path: TracePath;
  fate: Fate;
  /** Where it waits (pending), where it merged (coalesced) or why it was dropped. */
  where: string;
  /** Coalesced into this interrupt id. */
  into: number;
}

export interface SystemState {
  profile: KernelProfile;
  design: DesignGeneration;
  time: number;
  iommu: {
    interrupt_remapping: boolean;
    posted_interrupts: boolean;
    irte: (Irte | null)[];
    faults: RemapFault[];
    /** Usable remapping entries when the topology limits them (absent: INTR_REMAP_TABLE_ENTRIES). */
    irte_entries?: number;
  };
  devices: Record<string, PciDeviceState>;
  vdevs: Record<string, VirtualDeviceState>;
  host: {
    cpus: number;
    irqs: Record<string, HostIrq>;
    next_irq: number;
    log: KernelLogLine[];
    /** Present (false) when the MSI-X domain cannot allocate after enable (pci_msix_can_alloc_dyn). */
    msix_alloc_dyn?: false;
    /** Present when the topology asks for the pre-2024 INTx code (upstream v6.1.0). */
    intx_handler?: 'per-trigger';
  };
  vfio: Record<string, VfioDeviceState>;
  eventfds: Record<string, EventfdState>;
  next_fd: number;
  kvm: {
    gsi_routes: Record<string, GsiRoute>;
    irqfds: Record<string, Irqfd>;
    vcpus: Vcpu[];
    next_gsi: number;
    /**
     * APICv (enable_apicv): KVM's own injections go through PIR/ON (vmx_deliver_interrupt), the CPU
     * delivers the virtual interrupt and virtualizes EOI; posted IRTEs need it (vmx_can_use_vtd_pi).
     */
    apicv: boolean;
    /** The in-kernel IO-APIC's 24 pins (GSI 0-23 route to them by default). */
    ioapic: IoapicPin[];
  };
  vmm: Record<string, VmmDeviceState>;
  /** QEMU's MSI (not MSI-X) state per device, once the guest enabled MSI (hw/vfio/pci.c vfio_msi_enable). */
  vmm_msi?: Record<string, VmmMsiState>;
  guest: Record<string, GuestDriverState>;
  counters: Counters;
}

// ---------------------------------------------------------------- commands and results

export type Errno =
  | 'EINVAL'
  | 'ENOTTY'
  | 'EBADF'
  | 'ENODEV'
  | 'EBUSY'
  | 'ENOMEM'
  | 'ENOSPC'
  | 'EFAULT'
  | 'EPERM'
  | 'EEXIST'
  | 'ENOENT'
  | 'EOPNOTSUPP'
  | 'ERANGE'
  | 'EIO';

export type CommandResult =
  | { ok: true; value?: Json }
  | {
      ok: false;
      errno: Errno;
      message: string;
      field?: string;
      /** Refused by irqflow itself (malformed command, unknown device, a limit, an internal error), not by the modelled kernel. */
      tool?: true;
    };

/** One plain-JSON command; `op` names it (see commands.ts for the registry). */
export interface Command {
  op: string;
  [field: string]: Json | undefined;
}

// ---------------------------------------------------------------- trace

export type TracePath = 'direct' | 'posted' | 'intercepted' | 'emulated' | 'control';
export type TraceOutcome =
  'forwarded' | 'pending' | 'coalesced' | 'dropped' | 'delivered' | 'done' | 'failed';

export interface TraceEvent {
  seq: number;
  /** Virtual time in nanoseconds. */
  time: number;
  /** The interrupt this hop belongs to (0: a control-plane operation). */
  irq: number;
  /** The hop's key in the hop table (hops.ts). */
  hop: string;
  /** Diagram node ids, e.g. `msix:nic0`, `iommu`, `hostirq`, `vfio:nic0`, `eventfd`, `kvm`, `lapic:0`. */
  from: string;
  to: string;
  path: TracePath;
  outcome: TraceOutcome;
  /** The function that performs this hop in real life, and its source file. */
  fn: string;
  file: string;
  detail: string;
}

export interface Snapshot {
  version: 1;
  state: SystemState;
  queue: { time: number; seq: number; kind: number; irq: number; a: number; b: number }[];
  next_seq: number;
  next_irq: number;
  interrupts: InterruptRecord[];
  rng: number;
  trace_length: number;
  trace_strings: number;
}

export interface RunOptions {
  /** Stop before the first event later than this virtual time (ns). */
  until?: number;
  maxEvents?: number;
}
export interface RunResult {
  events: number;
  time: number;
  idle: boolean;
}
