// kvm-probe: runs a script of KVM calls against the real kernel's KVM (kvm_amd inside the guest that
// oracle/run-kvm.sh boots under QEMU's software emulation of AMD SVM) and prints the kernel's answer to
// each call as one JSON line. `irqflow probe --kvm` runs the same scripts against the engine and must
// print byte-identical lines, so this header is the contract for both.
//
//   kvm-probe SCRIPT
//
// SCRIPT FORMAT. One call per line; words are separated by blanks; '#' starts a comment that runs to
// the end of the line; blank and comment-only lines are skipped. Numbers are decimal or 0x hex.
//
//   vm       LABEL [irqchip|split|none]   close the VM there was (and its vCPUs), KVM_CREATE_VM, 64 KiB of
//                                         guest memory at 0 holding the built-in guest, then
//                                         KVM_CREATE_IRQCHIP (irqchip, the default), KVM_ENABLE_CAP
//                                         KVM_CAP_SPLIT_IRQCHIP with 24 pins (split), or nothing (none)
//   vcpu     LABEL ID                     KVM_CREATE_VCPU, then the built-in guest's registers (below);
//                                         the probe keeps vCPUs 0-15 (others are created and closed)
//   lapic    LABEL ID                     KVM_GET_LAPIC
//   setlapic LABEL ID REG=VAL ...         KVM_GET_LAPIC, change 32-bit registers, KVM_SET_LAPIC, then
//                                         KVM_GET_LAPIC again for the printed state. REG: id tpr ldr dfr
//                                         svr lvt0 lvt1 lvtt lvterr icr icr2 esr, or an offset 0xNNN
//   route    LABEL [ENTRY ...]            KVM_SET_GSI_ROUTING with exactly these entries (none: empty)
//   irqfd    LABEL FD GSI [deassign] [resample=FD] [flags=N]   KVM_IRQFD (flags=N ORs raw bits in)
//   signal   LABEL eN [VALUE]             write VALUE (default 1) to eventfd N, then wait 20 ms
//   read     LABEL eN                     non-blocking read of eventfd N (which resets it)
//   msi      LABEL MSG                    KVM_SIGNAL_MSI; ret is the number of LAPICs that took it
//   irq      LABEL GSI LEVEL              KVM_IRQ_LINE_STATUS
//   events   LABEL ID                     KVM_GET_VCPU_EVENTS
//   mpstate  LABEL ID [STATE]             KVM_SET_MP_STATE when STATE is given, then KVM_GET_MP_STATE
//   regs     LABEL ID                     KVM_GET_REGS
//   cap      LABEL NAME|NUMBER            KVM_CHECK_EXTENSION on the VM fd (on /dev/kvm before any vm)
//   sleep    LABEL MS
//   run      LABEL ID [eoi=N] [stop=N] [idle=0] [ms=N]   KVM_RUN the built-in guest (below)
//
//   FD     eN (eventfd N, 0 <= N < 16) or a raw integer fd
//   ENTRY  GSI:ADDR:DATA[:ADDR_HI]        an MSI route, raw
//          GSI:MSG-SPEC                   an MSI route from fields (MSG below)
//          GSI:ioapic:PIN                 KVM_IRQCHIP_IOAPIC pin PIN
//          GSI:pic:PIN                    PIN 0-7 the master PIC, 8-15 the slave (pin PIN - 8)
//   MSG    ADDR:DATA[:ADDR_HI] raw, or fields joined by ',':
//          dest=N (0-255 in address bits 19:12; higher bits go to ADDR_HI bits 31:8), vec=N,
//          mode=phys|log (address bit 2), dlv=fixed|lowest|smi|nmi|init|startup|extint|N (data bits
//          10:8), trig=edge|level (data bit 15), assert=0|1 (data bit 14), rh=0|1 (address bit 3).
//          Defaults: phys, fixed, edge, assert 0, rh 0, dest 0, vec 0. Address 0xfee00000 | fields.
//   STATE  runnable uninitialized init_received halted sipi_received stopped check_stop operating load
//          ap_reset_hold suspended, or a number
//   NAME   irqchip hlt user_memory set_tss_addr nr_vcpus max_vcpus max_vcpu_id irq_routing irqfd
//          ioeventfd vcpu_events pit2 signal_msi irqfd_resample readonly_mem split_irqchip x2apic_api
//          msi_devid immediate_exit irq_inject_status
//
// FDS. /dev/kvm is fd 3 and the 16 non-blocking eventfds e0..e15 (count 0) are fds 4..19, opened
// before the first line; VM and vCPU fds come after. So fds 0-2 (the console) and 3 are open but are
// not eventfds, and 999 is not open.
//
// THE BUILT-IN GUEST (the same code for every vCPU; 16-bit real mode, memory at guest address 0):
//   IVT at 0; vector V's handler at 0x1000 + 8V: push ax; mov al, V; jmp common.
//   common: out 0x10, al (reports V); if V >= 16, write EOI (a 32-bit store of 0 to the LAPIC's 0xB0,
//     through FS, whose base is 0xfee00000) as many times as the word at 0x500 says, with out 0x13
//     after each; a return address on main's sti or hlt (an NMI taken there) becomes main; pop ax; iret.
//   main: 0x2000: out 0x11 (the idle check point); sti; hlt; cli; jmp main. Maskable interrupts are
//     taken only at the hlt (sti's shadow covers it) or right after a handler's iret, before the cli;
//     NMIs wherever they arrive.
//   Registers at vcpu: cs, ds, es, ss base 0; fs base 0xfee00000; rip 0x2000; rsp 0xf000; rflags 0x2.
//   run writes eoi=N (default 1) to 0x500 and runs the vCPU until: idle (out 0x11 reached after a
//   handler returned in this run, one taken in it or one a stop=N run left: no interrupt was taken at
//   the next boundary; idle=0 turns this off), stop (the Nth vector reported, stop=N; the vCPU stops inside
//   that handler, before its EOIs), timeout (MS milliseconds, default 1000, pass: it sat in hlt), hlt
//   (KVM_EXIT_HLT: no in-kernel LAPIC), or exit-N (any other exit reason N). A vCPU resumes where the
//   last run left it. An AP (ID > 0) starts uninitialized under an in-kernel irqchip and waits for INIT/SIPI
//   inside KVM_RUN: make it runnable with mpstate first. A run that ended at an out (idle, stop) leaves
//   that instruction for KVM to complete at the next KVM_RUN: regs shows rip still on it (0x2000 after
//   idle); after a hlt exit rip is past the hlt (0x2004).
//
// OUTPUT. One line per call; the first line names the kernel, the CPU and the modules' parameters:
//   {"op":"kernel","release":"6.12.117+deb12-amd64","cpu":"AMD EPYC Processor","params":{"kvm":{...},"kvm_amd":{...}}}
//   {"op":"vm","label":"L","ret":0,"errno":"OK"}                     (vm and vcpu print ret 0, not the fd)
//   {"op":"lapic","label":"L","ret":0,"errno":"OK","vcpu":0,"id":"0x00000000","ldr":"0x00000000",
//    "dfr":"0xffffffff","svr":"0x000000ff","tpr":"0x00","apr":"0x00","ppr":"0x00","irr":["0x41"],
//    "isr":[],"tmr":[]}                                          (setlapic: the same with op setlapic)
//   {"op":"route","label":"L","ret":0,"errno":"OK","entries":2}
//   {"op":"irqfd","label":"L","ret":0,"errno":"OK"}
//   {"op":"signal","label":"L","ret":8,"errno":"OK"}
//   {"op":"read","label":"L","ret":8,"errno":"OK","value":1}      (ret -1, EAGAIN, value 0 when it was 0)
//   {"op":"msi","label":"L","ret":1,"errno":"OK"}
//   {"op":"irq","label":"L","ret":0,"errno":"OK","status":1}
//   {"op":"events","label":"L","ret":0,"errno":"OK","nmi_pending":0,"nmi_injected":0,"nmi_masked":0,
//    "irq_injected":0,"irq_nr":0,"exc_injected":0,"exc_nr":0,"smi_pending":0,"smm":0,"sipi_vector":0}
//   {"op":"mpstate","label":"L","ret":0,"errno":"OK","state":"runnable"}
//   {"op":"regs","label":"L","ret":0,"errno":"OK","rip":"0x2000","rflags":"0x2"}
//   {"op":"cap","label":"L","ret":1,"errno":"OK"}
//   {"op":"sleep","label":"L"}
//   {"op":"run","label":"L","ret":0,"errno":"OK","end":"idle","delivered":["0x41"],"eois":1}
//   {"op":"error","label":"L","message":"cannot parse this line"}
// ret is the ioctl's (or read/write's) return value, errno "OK" when ret >= 0, else the errno's name.
// A failed call prints zeros (and empty lists) in its other fields; setlapic prints the state read
// back after its KVM_SET_LAPIC, failed or not (zeros when that read fails too). mpstate's ret/errno are the SET's when STATE is given and it
// failed, else the GET's. run's ret is -1 only when KVM_RUN fails with something other than EINTR (end
// "error"). A line that does not parse, or names a vCPU the probe does not hold (not created, or
// >= 16), makes no call and prints the error line. vcpu, route, irqfd, msi and irq
// before any vm print EBADF without a call.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include <linux/kvm.h>

#define NUM_EVENTFDS 16
#define MAX_VCPUS 16
#define MAX_WORDS 300
#define MEM_SIZE 0x10000
#define EOI_COUNT_ADDR 0x500
#define MAIN_ADDR 0x2000
#define STUBS_ADDR 0x1000
#define COMMON_ADDR 0x1800
#define PORT_VECTOR 0x10
#define PORT_IDLE 0x11
#define PORT_EOI 0x13

static int kvm_fd, vm_fd = -1;
static int vcpu_fd[MAX_VCPUS];
static struct kvm_run *vcpu_run[MAX_VCPUS];
static size_t run_size;
static unsigned char *mem;
static int eventfds[NUM_EVENTFDS];
static volatile struct kvm_run *running; // for the timeout signal
static int in_handler[MAX_VCPUS];         // the last run stopped inside a handler (stop=N)

struct name_value {
  const char *name;
  long value;
};

static const struct name_value errno_names[] = {
    {"EPERM", EPERM},   {"ENOENT", ENOENT}, {"EINTR", EINTR},   {"EIO", EIO},       {"ENXIO", ENXIO},
    {"E2BIG", E2BIG},   {"EBADF", EBADF},   {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES},
    {"EFAULT", EFAULT}, {"EBUSY", EBUSY},   {"EEXIST", EEXIST}, {"ENODEV", ENODEV}, {"EINVAL", EINVAL},
    {"ENOTTY", ENOTTY}, {"ENOSPC", ENOSPC}, {"ERANGE", ERANGE}, {"ENOSYS", ENOSYS}, {"EOPNOTSUPP", EOPNOTSUPP},
};

static const struct name_value cap_names[] = {
    {"irqchip", KVM_CAP_IRQCHIP},
    {"hlt", KVM_CAP_HLT},
    {"user_memory", KVM_CAP_USER_MEMORY},
    {"set_tss_addr", KVM_CAP_SET_TSS_ADDR},
    {"nr_vcpus", KVM_CAP_NR_VCPUS},
    {"max_vcpus", KVM_CAP_MAX_VCPUS},
    {"max_vcpu_id", KVM_CAP_MAX_VCPU_ID},
    {"irq_routing", KVM_CAP_IRQ_ROUTING},
    {"irqfd", KVM_CAP_IRQFD},
    {"ioeventfd", KVM_CAP_IOEVENTFD},
    {"vcpu_events", KVM_CAP_VCPU_EVENTS},
    {"pit2", KVM_CAP_PIT2},
    {"signal_msi", KVM_CAP_SIGNAL_MSI},
    {"irqfd_resample", KVM_CAP_IRQFD_RESAMPLE},
    {"readonly_mem", KVM_CAP_READONLY_MEM},
    {"split_irqchip", KVM_CAP_SPLIT_IRQCHIP},
    {"x2apic_api", KVM_CAP_X2APIC_API},
    {"msi_devid", KVM_CAP_MSI_DEVID},
    {"immediate_exit", KVM_CAP_IMMEDIATE_EXIT},
    {"irq_inject_status", KVM_CAP_IRQ_INJECT_STATUS},
};

static const char *mp_names[] = {"runnable", "uninitialized", "init_received", "halted",
                                 "sipi_received", "stopped", "check_stop", "operating",
                                 "load", "ap_reset_hold", "suspended"};

static const struct name_value lapic_regs[] = {
    {"id", 0x20},     {"tpr", 0x80},    {"ldr", 0xd0},   {"dfr", 0xe0},  {"svr", 0xf0},  {"esr", 0x280},
    {"icr", 0x300},   {"icr2", 0x310},  {"lvtt", 0x320}, {"lvt0", 0x350}, {"lvt1", 0x360}, {"lvterr", 0x370},
};

static const struct name_value dlv_names[] = {
    {"fixed", 0}, {"lowest", 1}, {"smi", 2}, {"nmi", 4}, {"init", 5}, {"startup", 6}, {"extint", 7},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *errno_name(int e) {
  if (e == 0) return "OK";
  for (size_t i = 0; i < COUNT_OF(errno_names); i++)
    if (errno_names[i].value == e) return errno_names[i].name;
  return "EUNKNOWN";
}

static int lookup(const struct name_value *t, size_t n, const char *w, long *out) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(t[i].name, w)) {
      *out = t[i].value;
      return 1;
    }
  return 0;
}

static int parse_int(const char *word, long long *out) {
  char *end;
  if (!*word) return 0;
  errno = 0;
  long long v = strtoll(word, &end, 0);
  if (errno || *end || v < INT32_MIN || v > UINT32_MAX) return 0;
  *out = v;
  return 1;
}

static int parse_u32(const char *word, uint32_t *out) {
  long long v;
  if (!parse_int(word, &v) || v < 0) return 0;
  *out = (uint32_t)v;
  return 1;
}

static int parse_u64(const char *word, uint64_t *out) {
  char *end;
  if (!*word || *word == '-') return 0;
  errno = 0;
  unsigned long long v = strtoull(word, &end, 0);
  if (errno || *end) return 0;
  *out = v;
  return 1;
}

static int parse_eventfd_ref(const char *word, int *out) {
  long long n;
  if (word[0] != 'e' || !parse_int(word + 1, &n) || n < 0 || n >= NUM_EVENTFDS) return 0;
  *out = (int)n;
  return 1;
}

// eN or a raw integer fd
static int parse_fd(const char *word, int32_t *out) {
  int e;
  long long v;
  if (parse_eventfd_ref(word, &e)) *out = eventfds[e];
  else if (parse_int(word, &v) && v <= INT32_MAX) *out = (int32_t)v;
  else return 0;
  return 1;
}

static int parse_vcpu(const char *word, uint32_t *id) {
  return parse_u32(word, id) && *id < MAX_VCPUS && vcpu_fd[*id] >= 0;
}

static void print_label(const char *op, const char *label) {
  printf("{\"op\":\"%s\",\"label\":\"", op);
  // JSON-escaped as vfio-probe.c does it: control characters as \u00XX keep the line valid JSON
  for (const unsigned char *c = (const unsigned char *)label; *c; c++) {
    if (*c == '"' || *c == '\\') printf("\\%c", *c);
    else if (*c < 0x20 || *c == 0x7f) printf("\\u%04x", *c);
    else putchar(*c);
  }
  printf("\"");
}

static void print_result(int ret, int err) { printf(",\"ret\":%d,\"errno\":\"%s\"", ret, errno_name(ret < 0 ? err : 0)); }

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) < 0 && errno == EINTR) {
  }
}

// --- the built-in guest ---------------------------------------------------------------------------------
static void load_guest(void) {
  memset(mem, 0, MEM_SIZE);
  for (int v = 0; v < 256; v++) {
    uint16_t stub = STUBS_ADDR + 8 * v;
    mem[4 * v] = stub & 0xff;
    mem[4 * v + 1] = stub >> 8;
    mem[4 * v + 2] = 0;
    mem[4 * v + 3] = 0;
    unsigned char *p = mem + stub;
    int16_t rel = (int16_t)(COMMON_ADDR - (stub + 6));
    p[0] = 0x50;                      // push ax
    p[1] = 0xb0, p[2] = (unsigned char)v; // mov al, v
    p[3] = 0xe9, p[4] = rel & 0xff, p[5] = (rel >> 8) & 0xff; // jmp common
    p[6] = 0x90, p[7] = 0x90;
  }
  static const unsigned char common[] = {
      0xe6, PORT_VECTOR,                   // 00 out 0x10, al
      0x3c, 0x10,                          // 02 cmp al, 16
      0x72, 0x17,                          // 04 jb done (0x1d)
      0x51,                                // 06 push cx
      0x8b, 0x0e, EOI_COUNT_ADDR & 0xff, EOI_COUNT_ADDR >> 8, // 07 mov cx, [0x500]
      0xe3, 0x0f,                          // 0b jcxz eoidone (0x1c)
      0x64, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, // 0d mov dword fs:[0xb0], 0
      0xe6, PORT_EOI,                      // 17 out 0x13, al
      0x49,                                // 19 dec cx
      0xeb, 0xef,                          // 1a jmp eoiloop (0x0b)
      0x59,                                // 1c eoidone: pop cx
      0x55,                                // 1d done: push bp
      0x89, 0xe5,                          // 1e mov bp, sp
      0x81, 0x7e, 0x04, (MAIN_ADDR + 2) & 0xff, (MAIN_ADDR + 2) >> 8, // 20 cmp word [bp+4], main+2 (sti)
      0x72, 0x0c,                          // 25 jb skip (0x33)
      0x81, 0x7e, 0x04, (MAIN_ADDR + 4) & 0xff, (MAIN_ADDR + 4) >> 8, // 27 cmp word [bp+4], main+4 (cli)
      0x73, 0x05,                          // 2c jae skip (0x33)
      0xc7, 0x46, 0x04, MAIN_ADDR & 0xff, MAIN_ADDR >> 8, // 2e mov word [bp+4], main: return to the check
      0x5d,                                // 33 skip: pop bp
      0x58,                                // 34 pop ax
      0xcf,                                // 35 iret
  };
  memcpy(mem + COMMON_ADDR, common, sizeof common);
  static const unsigned char main_loop[] = {
      0xe6, PORT_IDLE, // 00 out 0x11, al
      0xfb,            // 02 sti
      0xf4,            // 03 hlt
      0xfa,            // 04 cli
      0xeb, 0xf9,      // 05 jmp main (0x00)
  };
  memcpy(mem + MAIN_ADDR, main_loop, sizeof main_loop);
}

static void close_vm(void) {
  for (int i = 0; i < MAX_VCPUS; i++) {
    if (vcpu_run[i]) munmap(vcpu_run[i], run_size);
    if (vcpu_fd[i] >= 0) close(vcpu_fd[i]);
    vcpu_fd[i] = -1;
    vcpu_run[i] = NULL;
    in_handler[i] = 0;
  }
  if (vm_fd >= 0) close(vm_fd);
  vm_fd = -1;
}

// vm LABEL [irqchip|split|none]
static int run_vm(char **w, int n) {
  const char *kind = n == 3 ? w[2] : "irqchip";
  if (n < 2 || n > 3 || (strcmp(kind, "irqchip") && strcmp(kind, "split") && strcmp(kind, "none"))) return 0;
  close_vm();
  int ret = 0, err = 0;
  vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
  if (vm_fd < 0) {
    ret = -1, err = errno;
  } else {
    load_guest();
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem};
    if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) ret = -1, err = errno;
    else if (!strcmp(kind, "irqchip")) {
      if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) ret = -1, err = errno;
    } else if (!strcmp(kind, "split")) {
      struct kvm_enable_cap cap = {.cap = KVM_CAP_SPLIT_IRQCHIP, .args = {24}};
      if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0) ret = -1, err = errno;
    }
  }
  print_label("vm", w[1]);
  print_result(ret, err);
  printf("}\n");
  return 1;
}

static void set_guest_registers(int fd) {
  struct kvm_sregs s;
  if (ioctl(fd, KVM_GET_SREGS, &s) < 0) return;
  struct kvm_segment *segs[] = {&s.cs, &s.ds, &s.es, &s.ss, &s.gs};
  for (size_t i = 0; i < COUNT_OF(segs); i++) {
    segs[i]->base = 0;
    segs[i]->selector = 0;
  }
  s.fs.base = 0xfee00000;
  s.fs.selector = 0;
  s.fs.limit = 0xffff;
  ioctl(fd, KVM_SET_SREGS, &s);
  struct kvm_regs r;
  memset(&r, 0, sizeof r);
  r.rip = MAIN_ADDR;
  r.rsp = 0xf000;
  r.rflags = 0x2;
  ioctl(fd, KVM_SET_REGS, &r);
}

// vcpu LABEL ID
static int run_vcpu(char **w, int n) {
  uint32_t id;
  if (n != 3 || !parse_u32(w[2], &id)) return 0;
  int ret = 0, err = 0;
  int fd = vm_fd < 0 ? -1 : ioctl(vm_fd, KVM_CREATE_VCPU, id);
  if (vm_fd < 0) ret = -1, err = EBADF;
  else if (fd < 0) ret = -1, err = errno;
  else if (id >= MAX_VCPUS || vcpu_fd[id] >= 0) close(fd); // created, but the probe keeps 16
  else {
    void *m = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
      ret = -1, err = errno;
      close(fd);
    } else {
      vcpu_fd[id] = fd;
      vcpu_run[id] = m;
      set_guest_registers(fd);
    }
  }
  print_label("vcpu", w[1]);
  print_result(ret, err);
  printf("}\n");
  return 1;
}

static uint32_t reg32(const struct kvm_lapic_state *s, unsigned off) {
  uint32_t v;
  memcpy(&v, s->regs + off, 4);
  return v;
}

static void print_vectors(const char *name, const struct kvm_lapic_state *s, unsigned base) {
  printf(",\"%s\":[", name);
  int first = 1;
  for (int v = 0; v < 256; v++)
    if ((reg32(s, base + 0x10 * (v / 32)) >> (v % 32)) & 1) {
      printf("%s\"0x%02x\"", first ? "" : ",", v);
      first = 0;
    }
  printf("]");
}

static void print_lapic(const char *op, const char *label, uint32_t id, int ret, int err,
                        const struct kvm_lapic_state *s) {
  print_label(op, label);
  print_result(ret, err);
  printf(",\"vcpu\":%u,\"id\":\"0x%08x\",\"ldr\":\"0x%08x\",\"dfr\":\"0x%08x\",\"svr\":\"0x%08x\",\"tpr\":\"0x%02x\","
         "\"apr\":\"0x%02x\",\"ppr\":\"0x%02x\"",
         id, reg32(s, 0x20), reg32(s, 0xd0), reg32(s, 0xe0), reg32(s, 0xf0), reg32(s, 0x80) & 0xff,
         reg32(s, 0x90) & 0xff, reg32(s, 0xa0) & 0xff);
  print_vectors("irr", s, 0x200);
  print_vectors("isr", s, 0x100);
  print_vectors("tmr", s, 0x180);
  printf("}\n");
}

// lapic LABEL ID
static int run_lapic(char **w, int n) {
  uint32_t id;
  if (n != 3 || !parse_vcpu(w[2], &id)) return 0;
  struct kvm_lapic_state s;
  memset(&s, 0, sizeof s);
  int ret = ioctl(vcpu_fd[id], KVM_GET_LAPIC, &s), err = errno;
  if (ret < 0) memset(&s, 0, sizeof s);
  print_lapic("lapic", w[1], id, ret, err, &s);
  return 1;
}

// setlapic LABEL ID REG=VAL ...
static int run_setlapic(char **w, int n) {
  uint32_t id;
  if (n < 4 || !parse_vcpu(w[2], &id)) return 0;
  uint32_t offs[MAX_WORDS], vals[MAX_WORDS];
  for (int k = 3; k < n; k++) {
    char copy[128];
    if (strlen(w[k]) >= sizeof copy) return 0;
    strcpy(copy, w[k]);
    char *eq = strchr(copy, '=');
    if (!eq) return 0;
    *eq = 0;
    long off;
    uint32_t o;
    if (lookup(lapic_regs, COUNT_OF(lapic_regs), copy, &off)) o = (uint32_t)off;
    else if (!strncmp(copy, "0x", 2) && parse_u32(copy, &o) && o < 0x400 && !(o & 3)) {
    } else return 0;
    if (!parse_u32(eq + 1, &vals[k - 3])) return 0;
    offs[k - 3] = o;
  }
  struct kvm_lapic_state s;
  memset(&s, 0, sizeof s);
  int ret = ioctl(vcpu_fd[id], KVM_GET_LAPIC, &s), err = errno;
  if (ret >= 0) {
    for (int k = 0; k < n - 3; k++) memcpy(s.regs + offs[k], &vals[k], 4);
    ret = ioctl(vcpu_fd[id], KVM_SET_LAPIC, &s);
    err = errno;
    memset(&s, 0, sizeof s);
    int e2 = errno;
    if (ioctl(vcpu_fd[id], KVM_GET_LAPIC, &s) < 0) memset(&s, 0, sizeof s);
    errno = e2;
  } else memset(&s, 0, sizeof s);
  print_lapic("setlapic", w[1], id, ret, err, &s);
  return 1;
}

// MSG: ADDR:DATA[:ADDR_HI] or fields
static int parse_msg(const char *word, uint32_t *lo, uint32_t *hi, uint32_t *data) {
  char copy[256];
  if (strlen(word) >= sizeof copy) return 0;
  strcpy(copy, word);
  if (!strchr(copy, '=')) {
    char *save = NULL, *a = strtok_r(copy, ":", &save), *d = strtok_r(NULL, ":", &save);
    char *h = strtok_r(NULL, ":", &save), *extra = strtok_r(NULL, ":", &save);
    *hi = 0;
    return a && d && !extra && parse_u32(a, lo) && parse_u32(d, data) && (!h || parse_u32(h, hi));
  }
  uint32_t dest = 0, vec = 0, logical = 0, dlv = 0, level = 0, assert = 0, rh = 0;
  char *save = NULL;
  for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(f, '=');
    if (!eq) return 0;
    *eq = 0;
    const char *v = eq + 1;
    long x;
    if (!strcmp(f, "dest")) {
      if (!parse_u32(v, &dest)) return 0;
    } else if (!strcmp(f, "vec")) {
      if (!parse_u32(v, &vec) || vec > 255) return 0;
    } else if (!strcmp(f, "mode")) {
      if (!strcmp(v, "phys")) logical = 0;
      else if (!strcmp(v, "log")) logical = 1;
      else return 0;
    } else if (!strcmp(f, "dlv")) {
      if (lookup(dlv_names, COUNT_OF(dlv_names), v, &x)) dlv = (uint32_t)x;
      else if (!parse_u32(v, &dlv) || dlv > 7) return 0;
    } else if (!strcmp(f, "trig")) {
      if (!strcmp(v, "edge")) level = 0;
      else if (!strcmp(v, "level")) level = 1;
      else return 0;
    } else if (!strcmp(f, "assert")) {
      if (!parse_u32(v, &assert) || assert > 1) return 0;
    } else if (!strcmp(f, "rh")) {
      if (!parse_u32(v, &rh) || rh > 1) return 0;
    } else return 0;
  }
  *lo = 0xfee00000u | (dest & 0xff) << 12 | rh << 3 | logical << 2;
  *hi = dest & 0xffffff00u;
  *data = vec | dlv << 8 | assert << 14 | level << 15;
  return 1;
}

// route LABEL [ENTRY ...]
static int run_route(char **w, int n) {
  if (n < 2) return 0;
  int count = n - 2;
  struct kvm_irq_routing *r = calloc(1, sizeof *r + count * sizeof(struct kvm_irq_routing_entry));
  r->nr = count;
  for (int k = 0; k < count; k++) {
    struct kvm_irq_routing_entry *e = &r->entries[k];
    char copy[256];
    if (strlen(w[k + 2]) >= sizeof copy) goto bad;
    strcpy(copy, w[k + 2]);
    char *colon = strchr(copy, ':');
    if (!colon) goto bad;
    *colon = 0;
    const char *rest = colon + 1;
    if (!parse_u32(copy, &e->gsi)) goto bad;
    uint32_t pin;
    if (!strncmp(rest, "ioapic:", 7)) {
      if (!parse_u32(rest + 7, &pin)) goto bad;
      e->type = KVM_IRQ_ROUTING_IRQCHIP;
      e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
      e->u.irqchip.pin = pin;
    } else if (!strncmp(rest, "pic:", 4)) {
      if (!parse_u32(rest + 4, &pin) || pin > 15) goto bad;
      e->type = KVM_IRQ_ROUTING_IRQCHIP;
      e->u.irqchip.irqchip = pin < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
      e->u.irqchip.pin = pin % 8;
    } else {
      e->type = KVM_IRQ_ROUTING_MSI;
      if (!parse_msg(rest, &e->u.msi.address_lo, &e->u.msi.address_hi, &e->u.msi.data)) goto bad;
    }
  }
  int ret = vm_fd < 0 ? -1 : ioctl(vm_fd, KVM_SET_GSI_ROUTING, r), err = vm_fd < 0 ? EBADF : errno;
  print_label("route", w[1]);
  print_result(ret, err);
  printf(",\"entries\":%d}\n", count);
  free(r);
  return 1;
bad:
  free(r);
  return 0;
}

// irqfd LABEL FD GSI [deassign] [resample=FD] [flags=N]
static int run_irqfd(char **w, int n) {
  struct kvm_irqfd f;
  memset(&f, 0, sizeof f);
  int32_t fd;
  if (n < 4 || !parse_fd(w[2], &fd) || !parse_u32(w[3], &f.gsi)) return 0;
  f.fd = (uint32_t)fd;
  for (int k = 4; k < n; k++) {
    uint32_t x;
    if (!strcmp(w[k], "deassign")) f.flags |= KVM_IRQFD_FLAG_DEASSIGN;
    else if (!strncmp(w[k], "resample=", 9)) {
      if (!parse_fd(w[k] + 9, &fd)) return 0;
      f.resamplefd = (uint32_t)fd;
      f.flags |= KVM_IRQFD_FLAG_RESAMPLE;
    } else if (!strncmp(w[k], "flags=", 6)) {
      if (!parse_u32(w[k] + 6, &x)) return 0;
      f.flags |= x;
    } else return 0;
  }
  int ret = vm_fd < 0 ? -1 : ioctl(vm_fd, KVM_IRQFD, &f), err = vm_fd < 0 ? EBADF : errno;
  print_label("irqfd", w[1]);
  print_result(ret, err);
  printf("}\n");
  return 1;
}

// signal LABEL eN [VALUE]
static int run_signal(char **w, int n) {
  int e;
  uint64_t v = 1;
  if (n < 3 || n > 4 || !parse_eventfd_ref(w[2], &e) || (n == 4 && !parse_u64(w[3], &v))) return 0;
  int ret = (int)write(eventfds[e], &v, sizeof v), err = errno;
  sleep_ms(20);
  print_label("signal", w[1]);
  print_result(ret, err);
  printf("}\n");
  return 1;
}

// read LABEL eN
static int run_read(char **w, int n) {
  int e;
  if (n != 3 || !parse_eventfd_ref(w[2], &e)) return 0;
  uint64_t v = 0;
  int ret = (int)read(eventfds[e], &v, sizeof v), err = errno;
  if (ret < 0) v = 0;
  print_label("read", w[1]);
  print_result(ret, err);
  printf(",\"value\":%llu}\n", (unsigned long long)v);
  return 1;
}

// msi LABEL MSG
static int run_msi(char **w, int n) {
  struct kvm_msi m;
  memset(&m, 0, sizeof m);
  if (n != 3 || !parse_msg(w[2], &m.address_lo, &m.address_hi, &m.data)) return 0;
  int ret = vm_fd < 0 ? -1 : ioctl(vm_fd, KVM_SIGNAL_MSI, &m), err = vm_fd < 0 ? EBADF : errno;
  print_label("msi", w[1]);
  print_result(ret, err);
  printf("}\n");
  return 1;
}

// irq LABEL GSI LEVEL
static int run_irq(char **w, int n) {
  struct kvm_irq_level l;
  memset(&l, 0, sizeof l);
  uint32_t level;
  if (n != 4 || !parse_u32(w[2], &l.irq) || !parse_u32(w[3], &level)) return 0;
  l.level = level;
  int ret = vm_fd < 0 ? -1 : ioctl(vm_fd, KVM_IRQ_LINE_STATUS, &l), err = vm_fd < 0 ? EBADF : errno;
  print_label("irq", w[1]);
  print_result(ret, err);
  printf(",\"status\":%d}\n", ret < 0 ? 0 : l.status);
  return 1;
}

// events LABEL ID
static int run_events(char **w, int n) {
  uint32_t id;
  if (n != 3 || !parse_vcpu(w[2], &id)) return 0;
  struct kvm_vcpu_events ev;
  memset(&ev, 0, sizeof ev);
  int ret = ioctl(vcpu_fd[id], KVM_GET_VCPU_EVENTS, &ev), err = errno;
  if (ret < 0) memset(&ev, 0, sizeof ev);
  print_label("events", w[1]);
  print_result(ret, err);
  printf(",\"nmi_pending\":%u,\"nmi_injected\":%u,\"nmi_masked\":%u,\"irq_injected\":%u,\"irq_nr\":%u,"
         "\"exc_injected\":%u,\"exc_nr\":%u,\"smi_pending\":%u,\"smm\":%u,\"sipi_vector\":%u}\n",
         ev.nmi.pending, ev.nmi.injected, ev.nmi.masked, ev.interrupt.injected, ev.interrupt.nr,
         ev.exception.injected, ev.exception.nr, ev.smi.pending, ev.smi.smm, ev.sipi_vector);
  return 1;
}

// mpstate LABEL ID [STATE]
static int run_mpstate(char **w, int n) {
  uint32_t id, state = 0;
  if (n < 3 || n > 4 || !parse_vcpu(w[2], &id)) return 0;
  if (n == 4) {
    int found = 0;
    for (size_t i = 0; i < COUNT_OF(mp_names); i++)
      if (!strcmp(mp_names[i], w[3])) state = (uint32_t)i, found = 1;
    if (!found && !parse_u32(w[3], &state)) return 0;
  }
  int ret = 0, err = 0;
  if (n == 4) {
    struct kvm_mp_state s = {.mp_state = state};
    ret = ioctl(vcpu_fd[id], KVM_SET_MP_STATE, &s);
    err = errno;
  }
  struct kvm_mp_state g = {0};
  int gret = ioctl(vcpu_fd[id], KVM_GET_MP_STATE, &g), gerr = errno;
  if (ret >= 0) ret = gret, err = gerr;
  print_label("mpstate", w[1]);
  print_result(ret, err);
  if (gret < 0) printf(",\"state\":\"\"}\n");
  else if (g.mp_state < COUNT_OF(mp_names)) printf(",\"state\":\"%s\"}\n", mp_names[g.mp_state]);
  else printf(",\"state\":\"%u\"}\n", g.mp_state);
  return 1;
}

// regs LABEL ID
static int run_regs(char **w, int n) {
  uint32_t id;
  if (n != 3 || !parse_vcpu(w[2], &id)) return 0;
  struct kvm_regs r;
  memset(&r, 0, sizeof r);
  int ret = ioctl(vcpu_fd[id], KVM_GET_REGS, &r), err = errno;
  if (ret < 0) memset(&r, 0, sizeof r);
  print_label("regs", w[1]);
  print_result(ret, err);
  printf(",\"rip\":\"0x%llx\",\"rflags\":\"0x%llx\"}\n", (unsigned long long)r.rip, (unsigned long long)r.rflags);
  return 1;
}

// cap LABEL NAME|NUMBER
static int run_cap(char **w, int n) {
  long cap;
  uint32_t c;
  if (n != 3) return 0;
  if (!lookup(cap_names, COUNT_OF(cap_names), w[2], &cap)) {
    if (!parse_u32(w[2], &c)) return 0;
    cap = c;
  }
  int ret = ioctl(vm_fd >= 0 ? vm_fd : kvm_fd, KVM_CHECK_EXTENSION, cap), err = errno;
  print_label("cap", w[1]);
  print_result(ret, err);
  printf("}\n");
  return 1;
}

static int run_sleep(char **w, int n) {
  uint32_t ms;
  if (n != 3 || !parse_u32(w[2], &ms)) return 0;
  sleep_ms(ms);
  print_label("sleep", w[1]);
  printf("}\n");
  return 1;
}

static void on_timeout(int sig) {
  (void)sig;
  if (running) running->immediate_exit = 1;
}

// run LABEL ID [eoi=N] [stop=N] [idle=0] [ms=N]
static int run_run(char **w, int n) {
  uint32_t id, eoi = 1, stop = 0, idle = 1, ms = 1000;
  if (n < 3 || !parse_vcpu(w[2], &id)) return 0;
  for (int k = 3; k < n; k++) {
    if (!strncmp(w[k], "eoi=", 4)) {
      if (!parse_u32(w[k] + 4, &eoi) || eoi > 0xffff) return 0;
    } else if (!strncmp(w[k], "stop=", 5)) {
      if (!parse_u32(w[k] + 5, &stop)) return 0;
    } else if (!strncmp(w[k], "idle=", 5)) {
      if (!parse_u32(w[k] + 5, &idle) || idle > 1) return 0;
    } else if (!strncmp(w[k], "ms=", 3)) {
      if (!parse_u32(w[k] + 3, &ms) || ms == 0) return 0;
    } else return 0;
  }
  struct kvm_run *r = vcpu_run[id];
  mem[EOI_COUNT_ADDR] = eoi & 0xff;
  mem[EOI_COUNT_ADDR + 1] = eoi >> 8;
  int delivered[4096], nd = 0, eois = 0, ret = 0, err = 0;
  char end[32] = "timeout";
  r->immediate_exit = 0;
  running = r;
  timer_t timer;
  struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
  timer_create(CLOCK_MONOTONIC, &sev, &timer);
  struct itimerspec its = {.it_value = {ms / 1000, (ms % 1000) * 1000000L}};
  timer_settime(timer, 0, &its, NULL);
  for (;;) {
    if (ioctl(vcpu_fd[id], KVM_RUN, 0) < 0) {
      if (errno == EINTR) strcpy(end, "timeout");
      else strcpy(end, "error"), ret = -1, err = errno;
      break;
    }
    if (r->exit_reason == KVM_EXIT_IO && r->io.direction == KVM_EXIT_IO_OUT) {
      unsigned char value = *((unsigned char *)r + r->io.data_offset);
      if (r->io.port == PORT_VECTOR) {
        if (nd < 4096) delivered[nd++] = value;
        in_handler[id] = 1;
        if (stop && (uint32_t)nd >= stop) {
          strcpy(end, "stop");
          break;
        }
      } else if (r->io.port == PORT_EOI) eois++;
      else if (r->io.port == PORT_IDLE) {
        int returned = nd > 0 || in_handler[id]; // a handler returned in this run
        in_handler[id] = 0;
        if (idle && returned) {
          strcpy(end, "idle");
          break;
        }
      }
    } else if (r->exit_reason == KVM_EXIT_IO || r->exit_reason == KVM_EXIT_MMIO) {
      // no in-kernel LAPIC: the EOI write comes here; nothing answers it
    } else if (r->exit_reason == KVM_EXIT_HLT) {
      strcpy(end, "hlt");
      break;
    } else if (r->exit_reason == KVM_EXIT_INTR) {
      strcpy(end, "timeout");
      break;
    } else {
      snprintf(end, sizeof end, "exit-%u", r->exit_reason);
      break;
    }
  }
  struct itimerspec off = {{0, 0}, {0, 0}};
  timer_settime(timer, 0, &off, NULL);
  timer_delete(timer);
  running = NULL;
  r->immediate_exit = 0;
  print_label("run", w[1]);
  print_result(ret, err);
  printf(",\"end\":\"%s\",\"delivered\":[", end);
  for (int i = 0; i < nd; i++) printf("%s\"0x%02x\"", i ? "," : "", delivered[i]);
  printf("],\"eois\":%d}\n", eois);
  return 1;
}

// --- the first line -----------------------------------------------------------------------------------
static void print_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if ((unsigned char)*s >= 0x20) putchar(*s);
  }
  putchar('"');
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void print_params(const char *module) {
  char dir[128];
  snprintf(dir, sizeof dir, "/sys/module/%s/parameters", module);
  print_json_string(module);
  printf(":{");
  DIR *d = opendir(dir);
  char *names[256];
  int count = 0;
  if (d) {
    for (struct dirent *e; (e = readdir(d)) && count < 256;)
      if (e->d_name[0] != '.') names[count++] = strdup(e->d_name);
    closedir(d);
  }
  qsort(names, count, sizeof names[0], cmp_str);
  for (int i = 0; i < count; i++) {
    char path[512], value[256] = "";
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "r");
    if (f) {
      if (!fgets(value, sizeof value, f)) value[0] = 0;
      fclose(f);
    }
    value[strcspn(value, "\n")] = 0;
    printf("%s", i ? "," : "");
    print_json_string(names[i]);
    putchar(':');
    print_json_string(value);
    free(names[i]);
  }
  printf("}");
}

static void print_kernel_line(void) {
  struct utsname u;
  uname(&u);
  char cpu[256] = "", line[512];
  FILE *f = fopen("/proc/cpuinfo", "r");
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10)) {
      char *c = strchr(line, ':');
      if (c) {
        c++;
        while (*c == ' ' || *c == '\t') c++;
        snprintf(cpu, sizeof cpu, "%s", c);
        cpu[strcspn(cpu, "\n")] = 0;
      }
      break;
    }
  if (f) fclose(f);
  printf("{\"op\":\"kernel\",\"release\":");
  print_json_string(u.release);
  printf(",\"cpu\":");
  print_json_string(cpu);
  printf(",\"params\":{");
  print_params("kvm");
  printf(",");
  print_params("kvm_amd");
  printf("}}\n");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: kvm-probe SCRIPT\n");
    return 2;
  }
  kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm_fd < 0) {
    perror("kvm-probe: open /dev/kvm");
    return 1;
  }
  if (kvm_fd != 3) fprintf(stderr, "kvm-probe: /dev/kvm is fd %d, not 3\n", kvm_fd);
  for (int i = 0; i < NUM_EVENTFDS; i++) {
    eventfds[i] = eventfd(0, EFD_NONBLOCK);
    if (eventfds[i] < 0) {
      perror("kvm-probe: eventfd");
      return 1;
    }
  }
  for (int i = 0; i < MAX_VCPUS; i++) vcpu_fd[i] = -1;
  run_size = (size_t)ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_timeout;
  sigaction(SIGUSR1, &sa, NULL); // no SA_RESTART: KVM_RUN returns EINTR
  FILE *script = fopen(argv[1], "r");
  if (!script) {
    perror("kvm-probe: open the script");
    return 1;
  }
  print_kernel_line();
  fflush(stdout);
  char line[8192];
  while (fgets(line, sizeof line, script)) {
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    char *w[MAX_WORDS + 1], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
      if (n == MAX_WORDS + 1) break;
      w[n++] = t;
    }
    if (n == 0) continue;
    static const struct {
      const char *op;
      int (*fn)(char **, int);
    } ops[] = {
        {"vm", run_vm},         {"vcpu", run_vcpu},     {"lapic", run_lapic},   {"setlapic", run_setlapic},
        {"route", run_route},   {"irqfd", run_irqfd},   {"signal", run_signal}, {"read", run_read},
        {"msi", run_msi},       {"irq", run_irq},       {"events", run_events}, {"mpstate", run_mpstate},
        {"regs", run_regs},     {"cap", run_cap},       {"sleep", run_sleep},   {"run", run_run},
    };
    int ok = 0;
    if (n <= MAX_WORDS)
      for (size_t i = 0; i < COUNT_OF(ops); i++)
        if (!strcmp(w[0], ops[i].op)) {
          ok = ops[i].fn(w, n);
          break;
        }
    if (!ok) {
      print_label("error", n > 1 ? w[1] : "");
      printf(",\"message\":\"cannot parse this line\"}\n");
    }
    fflush(stdout);
  }
  close_vm();
  return 0;
}
