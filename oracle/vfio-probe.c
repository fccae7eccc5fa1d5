// vfio-probe: runs a script of VFIO IRQ uAPI calls against the real kernel and prints the kernel's
// answer to each call as one JSON line. It runs inside the small QEMU guest that oracle/run.sh boots,
// where one PCI device is bound to vfio-pci. `irqflow probe` runs the same scripts against the engine
// and must print byte-identical lines, so this header is the contract for both.
//
//   vfio-probe BDF /dev/vfio/GROUP SCRIPT
//
// SCRIPT FORMAT. One call per line; words are separated by blanks; '#' starts a comment that runs to
// the end of the line; blank and comment-only lines are skipped.
//
//   info  LABEL INDEX [ARGSZ]                  VFIO_DEVICE_GET_IRQ_INFO
//   set   LABEL FLAGS INDEX START COUNT [ARG...] VFIO_DEVICE_SET_IRQS
//   read  LABEL eN                             read eventfd N's counter (this resets it to 0)
//
// The data path (e1000e only for raise/ack; the rest works on any device):
//   setup   LABEL                  set Memory Space and Bus Master (command bits 1, 2) through the VFIO
//                                  config region (vfio-pci leaves Bus Master off: MSI/MSI-X writes drop)
//   raise   LABEL N                make e1000e interrupt with cause N (0 RXQ0, 1 RXQ1, 2 TXQ0, 3 TXQ1,
//                                  4 OTHER; N = 0..4) through BAR0 written with the VFIO device fd:
//                                  IVAR (0xE4) = 0x000CBA98 maps cause i to MSI-X vector i; IMC (0xD8) =
//                                  all ones; read ICR (0xC0: with IMS 0 this clears it); IMS (0xD0) =
//                                  cause N alone; ICS (0xC8) = cause N. With MSI-X on the device sends
//                                  vector N's message, with MSI on its MSI message, with neither it
//                                  asserts INTx (level) until ack. Then waits 20 ms.
//   ack     LABEL                  read ICR, then write all ones to it (drops a level INTx line)
//   signal  LABEL eN               write 1 to eventfd N (an unmask irqfd, say), then wait 20 ms
//   sleep   LABEL MS               wait MS milliseconds
//   cfgr    LABEL OFF SIZE         read SIZE (1, 2, 4) bytes of config space through the VFIO config region
//   cfgw    LABEL OFF SIZE VAL     write them
//   barr    LABEL BAR OFF          a 32-bit read of BAR region BAR (0..5) at OFF through the VFIO device fd
//   barw    LABEL BAR OFF VAL      a 32-bit write
// What the hardware holds behind VFIO's back, read inside the guest from sysfs (the BDF's config file,
// and its MSI-X BAR mapped through resourceN before the script starts) and /proc/interrupts:
//   msix    LABEL N                MSI-X table entry N: masked (vector control bit 0), pending (PBA bit
//                                  N), msg_zero (address low, high and data all 0); the function's
//                                  enabled (message control bit 15) and fmask (bit 14)
//   intx    LABEL                  disintx: command bit 10 (Interrupt Disable); status_intx: status bit 3
//   hostirq LABEL                  irqs: for each host IRQ whose action is named vfio-*, the name
//                                  without its "(BDF)" suffix and how many times it was handled (the
//                                  /proc/interrupts count), ordered by the number in [] (intx first)
//
//   LABEL  any word; printed back, JSON-escaped (" and \ get a backslash, control characters \u00XX).
//   INDEX  INTX MSI MSIX ERR REQ (0..4), or a number (decimal, 0x hex).
//   ARGSZ  for info: the exact argsz (default 16, sizeof(struct vfio_irq_info)).
//   FLAGS  names joined by '|': NONE BOOL EVENTFD MASK UNMASK TRIGGER (the kernel's bits 1<<0..1<<5),
//          or numbers, mixed freely: "EVENTFD|TRIGGER", "0x24", "TRIGGER|0x40".
//   START, COUNT  unsigned 32-bit numbers (0xffffffff allowed).
//   ARG    the data after the 20-byte header, in order:
//            eN      the fd of eventfd N (0 <= N < 16) as a 4-byte int (for DATA_EVENTFD)
//            bN      one byte of value N (for DATA_BOOL: b0, b1)
//            INT     a raw 4-byte int, e.g. -1 (de-assign), 0 (stdin: not an eventfd), 999 (not open)
//            argsz=+K / argsz=-K   argsz = 20 + data bytes given, plus or minus K
//            argsz=K               argsz = K exactly
//          argsz defaults to 20 + the bytes given. Bytes past the given data read as zero.
//
// Before the first line runs, vfio-probe opens the container (fd 3), the group (4), the device (5)
// and 16 non-blocking eventfds with count 0 (e0..e15 = fds 6..21). So raw fds 0-2 (the console) and
// 5 are open but are not eventfds, and 999 is not open. `read` of an eventfd whose count is 0 prints 0.
//
// OUTPUT. One line per call, in script order; the first line comes from run.sh, not from here:
//   {"op":"kernel","release":"6.12.117+deb12-amd64","device":"e1000e","bdf":"0000:00:02.0"}
//   {"op":"info","label":"L","ret":0,"errno":"OK","flags":9,"count":5}
//   {"op":"set","label":"L","ret":-1,"errno":"EINVAL"}
//   {"op":"read","label":"L","signals":2}
//   {"op":"error","label":"L","message":"cannot parse this line"}
//   {"op":"setup","label":"L","ret":0,"errno":"OK","command_before":"0x0000","command_after":"0x0006"}
//   {"op":"raise","label":"L","ret":0,"errno":"OK","vector":1}
//   {"op":"ack","label":"L","ret":0,"errno":"OK"}
//   {"op":"signal","label":"L"}
//   {"op":"sleep","label":"L"}
//   {"op":"cfgr","label":"L","ret":2,"errno":"OK","offset":"0x4","value":"0x0406"}
//   {"op":"cfgw","label":"L","ret":2,"errno":"OK","offset":"0x4","value":"0x0406"}
//   {"op":"barr","label":"L","ret":4,"errno":"OK","bar":3,"offset":"0x2000","value":"0x00000001"}
//   {"op":"barw","label":"L","ret":4,"errno":"OK","bar":0,"offset":"0xc8","value":"0x00100000"}
//   {"op":"msix","label":"L","vector":1,"masked":false,"pending":false,"msg_zero":false,"enabled":true,"fmask":false}
//   {"op":"intx","label":"L","disintx":true,"status_intx":false}
//   {"op":"hostirq","label":"L","irqs":{"vfio-msix[0]":1,"vfio-msix[1]":0}}
// setup, raise and ack carry the first failing access's ret (-1) and errno (vfio-pci refuses BAR
// access with EIO while Memory Space is off), or 0 and OK. cfgr/cfgw/barr/barw carry pread/pwrite's
// ret (the byte count); a failed read prints value 0 (width kept); cfgw/barw print the value written.
// Offsets print as 0x hex, values as 0x hex with 2 digits per byte. raise's and ack's ICR reads are
// not printed.
// ret is the ioctl's return value; errno is "OK" when ret >= 0, else the errno's name (EUNKNOWN for
// a name not in the table below). An info call that fails prints flags 0 and count 0. A line that
// does not parse (unknown op, missing or extra words, a word that is not a number or a name above)
// makes no call and prints the error line, with LABEL or "" when the line has no second word.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#define NUM_EVENTFDS 16
#define MAX_WORDS 300
#define DATA_MAX 8192 // vfio_set_irqs_validate_and_prepare bounds data by count <= 2048 MSI-X vectors

static int device_fd;
static const char *bdf_name;
static int sysfs_config_fd = -1;              // /sys/bus/pci/devices/BDF/config: the physical config space
static volatile unsigned char *msix_bar_map;   // the MSI-X BAR, mapped through sysfs resourceN
static uint32_t msix_table_off, msix_pba_off, msix_cap, msix_size;
static int eventfds[NUM_EVENTFDS];

struct name_value {
  const char *name;
  uint32_t value;
};

static const struct name_value errno_names[] = {
    {"EPERM", EPERM},   {"ENOENT", ENOENT}, {"EINTR", EINTR},   {"EIO", EIO},       {"ENXIO", ENXIO},
    {"E2BIG", E2BIG},   {"EBADF", EBADF},   {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES},
    {"EFAULT", EFAULT}, {"EBUSY", EBUSY},   {"EEXIST", EEXIST}, {"ENODEV", ENODEV}, {"EINVAL", EINVAL},
    {"ENOTTY", ENOTTY}, {"ENOSPC", ENOSPC}, {"ERANGE", ERANGE}, {"ENOSYS", ENOSYS},
    {"EOPNOTSUPP", EOPNOTSUPP},
};

static const struct name_value index_names[] = {
    {"INTX", VFIO_PCI_INTX_IRQ_INDEX}, {"MSI", VFIO_PCI_MSI_IRQ_INDEX}, {"MSIX", VFIO_PCI_MSIX_IRQ_INDEX},
    {"ERR", VFIO_PCI_ERR_IRQ_INDEX},   {"REQ", VFIO_PCI_REQ_IRQ_INDEX},
};

static const struct name_value flag_names[] = {
    {"NONE", VFIO_IRQ_SET_DATA_NONE},     {"BOOL", VFIO_IRQ_SET_DATA_BOOL},
    {"EVENTFD", VFIO_IRQ_SET_DATA_EVENTFD}, {"MASK", VFIO_IRQ_SET_ACTION_MASK},
    {"UNMASK", VFIO_IRQ_SET_ACTION_UNMASK}, {"TRIGGER", VFIO_IRQ_SET_ACTION_TRIGGER},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *errno_name(int e) {
  if (e == 0) return "OK";
  for (size_t i = 0; i < COUNT_OF(errno_names); i++)
    if ((int)errno_names[i].value == e) return errno_names[i].name;
  return "EUNKNOWN";
}

static int lookup(const struct name_value *table, size_t n, const char *word, uint32_t *out) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(table[i].name, word)) {
      *out = table[i].value;
      return 1;
    }
  return 0;
}

// A whole word as a signed or unsigned number that fits 32 bits (decimal or 0x hex).
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

static int parse_index(const char *word, uint32_t *out) {
  return lookup(index_names, COUNT_OF(index_names), word, out) || parse_u32(word, out);
}

static int parse_flags(const char *word, uint32_t *out) {
  char copy[256], *save = NULL;
  if (strlen(word) >= sizeof copy) return 0;
  strcpy(copy, word);
  *out = 0;
  for (char *part = strtok_r(copy, "|", &save); part; part = strtok_r(NULL, "|", &save)) {
    uint32_t bit;
    if (!lookup(flag_names, COUNT_OF(flag_names), part, &bit) && !parse_u32(part, &bit)) return 0;
    *out |= bit;
  }
  return word[0] && word[strlen(word) - 1] != '|';
}

// eN with 0 <= N < 16: the index N.
static int parse_eventfd_ref(const char *word, int *out) {
  long long n;
  if (word[0] != 'e' || !parse_int(word + 1, &n) || n < 0 || n >= NUM_EVENTFDS) return 0;
  *out = (int)n;
  return 1;
}

static void print_label(const char *op, const char *label) {
  printf("{\"op\":\"%s\",\"label\":\"", op);
  // JSON-escaped: quote and backslash get a backslash, control characters print as \u00XX, so the
  // line stays valid JSON (irqflow probe escapes the same way: src/cli/probe.ts jsonLabel)
  for (const unsigned char *c = (const unsigned char *)label; *c; c++) {
    if (*c == '"' || *c == '\\') printf("\\%c", *c);
    else if (*c < 0x20 || *c == 0x7f) printf("\\u%04x", *c);
    else putchar(*c);
  }
  printf("\"");
}

static void print_parse_error(const char *label) {
  print_label("error", label);
  printf(",\"message\":\"cannot parse this line\"}\n");
}

// info LABEL INDEX [ARGSZ]
static int run_info(char **w, int n) {
  if (n < 3 || n > 4) return 0;
  uint32_t index, argsz = sizeof(struct vfio_irq_info);
  if (!parse_index(w[2], &index) || (n == 4 && !parse_u32(w[3], &argsz))) return 0;
  // Room past the struct so a large argsz never points outside our memory.
  union {
    struct vfio_irq_info info;
    unsigned char room[256];
  } u;
  memset(&u, 0, sizeof u);
  u.info.argsz = argsz;
  u.info.index = index;
  int ret = ioctl(device_fd, VFIO_DEVICE_GET_IRQ_INFO, &u.info);
  int err = ret < 0 ? errno : 0;
  print_label("info", w[1]);
  printf(",\"ret\":%d,\"errno\":\"%s\",\"flags\":%u,\"count\":%u}\n", ret, errno_name(err),
         ret < 0 ? 0 : u.info.flags, ret < 0 ? 0 : u.info.count);
  return 1;
}

// set LABEL FLAGS INDEX START COUNT [ARG...]
static int run_set(char **w, int n) {
  static unsigned char buf[sizeof(struct vfio_irq_set) + DATA_MAX];
  struct vfio_irq_set *hdr = (struct vfio_irq_set *)buf;
  uint32_t flags, index, start, count;
  if (n < 6 || !parse_flags(w[2], &flags) || !parse_index(w[3], &index) || !parse_u32(w[4], &start) ||
      !parse_u32(w[5], &count))
    return 0;
  memset(buf, 0, sizeof buf);
  size_t len = 0;
  long long argsz_delta = 0, argsz_exact = -1;
  for (int k = 6; k < n; k++) {
    const char *a = w[k];
    long long v;
    int e;
    if (!strncmp(a, "argsz=", 6)) {
      if (!parse_int(a + 6, &v)) return 0;
      if (a[6] == '+' || a[6] == '-') argsz_delta = v;
      else argsz_exact = v;
    } else if (a[0] == 'b') {
      if (!parse_int(a + 1, &v) || v < 0 || v > 255 || len + 1 > DATA_MAX) return 0;
      buf[sizeof *hdr + len++] = (unsigned char)v;
    } else {
      int32_t fd;
      if (parse_eventfd_ref(a, &e)) fd = eventfds[e];
      else if (parse_int(a, &v)) fd = (int32_t)v;
      else return 0;
      if (len + 4 > DATA_MAX) return 0;
      memcpy(buf + sizeof *hdr + len, &fd, 4);
      len += 4;
    }
  }
  hdr->argsz = argsz_exact >= 0 ? (uint32_t)argsz_exact : (uint32_t)((long long)(sizeof *hdr + len) + argsz_delta);
  hdr->flags = flags;
  hdr->index = index;
  hdr->start = start;
  hdr->count = count;
  int ret = ioctl(device_fd, VFIO_DEVICE_SET_IRQS, hdr);
  int err = ret < 0 ? errno : 0;
  print_label("set", w[1]);
  printf(",\"ret\":%d,\"errno\":\"%s\"}\n", ret, errno_name(err));
  return 1;
}

// read LABEL eN
static int run_read(char **w, int n) {
  int e;
  if (n != 3 || !parse_eventfd_ref(w[2], &e)) return 0;
  uint64_t count = 0;
  if (read(eventfds[e], &count, sizeof count) != sizeof count) count = 0; // EAGAIN: the count is 0
  print_label("read", w[1]);
  printf(",\"signals\":%llu}\n", (unsigned long long)count);
  return 1;
}


// --- the data path ------------------------------------------------------------------------------------
static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) < 0 && errno == EINTR) {
  }
}

static int region_offset(uint32_t index, uint64_t *off) {
  struct vfio_region_info info = {.argsz = sizeof info, .index = index};
  if (ioctl(device_fd, VFIO_DEVICE_GET_REGION_INFO, &info) < 0) return -1;
  *off = info.offset;
  return 0;
}

// One access of SIZE bytes to a VFIO region; returns pread/pwrite's ret, errno in *err.
static int region_rw(uint32_t index, uint64_t off, uint32_t size, uint32_t *val, int write, int *err) {
  uint64_t base;
  *err = 0;
  if (region_offset(index, &base) < 0) {
    *err = errno;
    return -1;
  }
  unsigned char b[4] = {0};
  int ret;
  if (write) {
    memcpy(b, val, size); // little-endian
    ret = (int)pwrite(device_fd, b, size, (off_t)(base + off));
  } else {
    ret = (int)pread(device_fd, b, size, (off_t)(base + off));
    *val = 0;
    if (ret == (int)size) memcpy(val, b, size);
  }
  if (ret < 0) *err = errno;
  else if (ret != (int)size) *err = EIO;
  return ret;
}

static void print_result(int ret, int err) { printf(",\"ret\":%d,\"errno\":\"%s\"", ret, errno_name(err)); }

// A sequence of accesses that stops at the first failure; first_ret/first_err keep it.
struct seq {
  int ret, err;
};
static void seq_rw(struct seq *q, uint32_t index, uint64_t off, uint32_t size, uint32_t *val, int write) {
  if (q->ret < 0) return;
  int err, ret = region_rw(index, off, size, val, write, &err);
  if (ret != (int)size) {
    q->ret = -1;
    q->err = err ? err : EIO;
  }
}

static int run_setup(char **w, int n) {
  if (n != 2) return 0;
  struct seq q = {0, 0};
  uint32_t before = 0, after = 0, v;
  seq_rw(&q, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, 2, &before, 0);
  v = before | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
  seq_rw(&q, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, 2, &v, 1);
  seq_rw(&q, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, 2, &after, 0);
  print_label("setup", w[1]);
  print_result(q.ret, q.err);
  printf(",\"command_before\":\"0x%04x\",\"command_after\":\"0x%04x\"}\n", before, after);
  return 1;
}

#define E1000_ICR 0xC0
#define E1000_ICS 0xC8
#define E1000_IMS 0xD0
#define E1000_IMC 0xD8
#define E1000_IVAR 0xE4
// IVAR: RXQ0 bits 3:0, RXQ1 7:4, TXQ0 11:8, TXQ1 15:12, OTHER 19:16; in each, bit 3 valid and bits 2:0
#define E1000_IVAR_MAP 0x000CBA98u

static int run_raise(char **w, int n) {
  uint32_t cause;
  if (n != 3 || !parse_u32(w[2], &cause) || cause > 4) return 0;
  struct seq q = {0, 0};
  uint32_t v, icr;
  v = E1000_IVAR_MAP;
  seq_rw(&q, VFIO_PCI_BAR0_REGION_INDEX, E1000_IVAR, 4, &v, 1);
  v = 0xffffffffu;
  seq_rw(&q, VFIO_PCI_BAR0_REGION_INDEX, E1000_IMC, 4, &v, 1);
  seq_rw(&q, VFIO_PCI_BAR0_REGION_INDEX, E1000_ICR, 4, &icr, 0);
  v = 1u << (20 + cause); // E1000_ICR_RXQ0 is bit 20; RXQ1, TXQ0, TXQ1, OTHER follow
  seq_rw(&q, VFIO_PCI_BAR0_REGION_INDEX, E1000_IMS, 4, &v, 1);
  seq_rw(&q, VFIO_PCI_BAR0_REGION_INDEX, E1000_ICS, 4, &v, 1);
  sleep_ms(20);
  print_label("raise", w[1]);
  print_result(q.ret, q.err);
  printf(",\"vector\":%u}\n", cause);
  return 1;
}

static int run_ack(char **w, int n) {
  if (n != 2) return 0;
  struct seq q = {0, 0};
  uint32_t icr, v = 0xffffffffu;
  seq_rw(&q, VFIO_PCI_BAR0_REGION_INDEX, E1000_ICR, 4, &icr, 0);
  seq_rw(&q, VFIO_PCI_BAR0_REGION_INDEX, E1000_ICR, 4, &v, 1);
  sleep_ms(20);
  print_label("ack", w[1]);
  print_result(q.ret, q.err);
  printf("}\n");
  return 1;
}

static int run_signal(char **w, int n) {
  int e;
  if (n != 3 || !parse_eventfd_ref(w[2], &e)) return 0;
  uint64_t one = 1;
  if (write(eventfds[e], &one, sizeof one) != sizeof one) perror("vfio-probe: signal");
  sleep_ms(20);
  print_label("signal", w[1]);
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

static int run_cfg(char **w, int n, int write) {
  uint32_t off, size, val = 0;
  if (n != (write ? 5 : 4) || !parse_u32(w[2], &off) || !parse_u32(w[3], &size) ||
      (size != 1 && size != 2 && size != 4) || (write && !parse_u32(w[4], &val)))
    return 0;
  if (write && size < 4 && val >> (8 * size)) return 0;
  int err, ret = region_rw(VFIO_PCI_CONFIG_REGION_INDEX, off, size, &val, write, &err);
  print_label(write ? "cfgw" : "cfgr", w[1]);
  print_result(ret, err);
  printf(",\"offset\":\"0x%x\",\"value\":\"0x%0*x\"}\n", off, (int)size * 2, val);
  return 1;
}

static int run_bar(char **w, int n, int write) {
  uint32_t bar, off, val = 0;
  if (n != (write ? 5 : 4) || !parse_u32(w[2], &bar) || bar > 5 || !parse_u32(w[3], &off) ||
      (write && !parse_u32(w[4], &val)))
    return 0;
  int err, ret = region_rw(VFIO_PCI_BAR0_REGION_INDEX + bar, off, 4, &val, write, &err);
  print_label(write ? "barw" : "barr", w[1]);
  print_result(ret, err);
  printf(",\"bar\":%u,\"offset\":\"0x%x\",\"value\":\"0x%08x\"}\n", bar, off, val);
  return 1;
}

static uint32_t sysfs_cfg(uint32_t off, uint32_t size) {
  uint32_t v = 0;
  if (pread(sysfs_config_fd, &v, size, off) != (ssize_t)size) return 0xffffffffu;
  return v;
}

static uint32_t bar_word(uint32_t off) { return *(volatile uint32_t *)(msix_bar_map + off); }

static int run_msix(char **w, int n) {
  uint32_t vec;
  if (n != 3 || !parse_u32(w[2], &vec) || !msix_bar_map || vec >= msix_size) return 0;
  uint32_t e = msix_table_off + vec * PCI_MSIX_ENTRY_SIZE;
  uint32_t lo = bar_word(e + PCI_MSIX_ENTRY_LOWER_ADDR), hi = bar_word(e + PCI_MSIX_ENTRY_UPPER_ADDR);
  uint32_t data = bar_word(e + PCI_MSIX_ENTRY_DATA), ctrl = bar_word(e + PCI_MSIX_ENTRY_VECTOR_CTRL);
  uint32_t pba = bar_word(msix_pba_off + (vec / 32) * 4);
  uint32_t flags = sysfs_cfg(msix_cap + PCI_MSIX_FLAGS, 2);
  print_label("msix", w[1]);
  printf(",\"vector\":%u,\"masked\":%s,\"pending\":%s,\"msg_zero\":%s,\"enabled\":%s,\"fmask\":%s}\n", vec,
         ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT ? "true" : "false", (pba >> (vec % 32)) & 1 ? "true" : "false",
         !lo && !hi && !data ? "true" : "false", flags & PCI_MSIX_FLAGS_ENABLE ? "true" : "false",
         flags & PCI_MSIX_FLAGS_MASKALL ? "true" : "false");
  return 1;
}

static int run_intx(char **w, int n) {
  if (n != 2) return 0;
  uint32_t cmd = sysfs_cfg(PCI_COMMAND, 2), status = sysfs_cfg(PCI_STATUS, 2);
  print_label("intx", w[1]);
  printf(",\"disintx\":%s,\"status_intx\":%s}\n", cmd & PCI_COMMAND_INTX_DISABLE ? "true" : "false",
         status & PCI_STATUS_INTERRUPT ? "true" : "false");
  return 1;
}

struct host_irq {
  char name[64];
  int index; // the number in [], -1 for vfio-intx
  unsigned long long count;
};

static int cmp_host_irq(const void *a, const void *b) {
  const struct host_irq *x = a, *y = b;
  if (x->index != y->index) return x->index < y->index ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int run_hostirq(char **w, int n) {
  if (n != 2) return 0;
  struct host_irq irqs[256];
  int count = 0;
  FILE *f = fopen("/proc/interrupts", "r");
  char line[1024];
  if (f) {
    if (!fgets(line, sizeof line, f)) line[0] = 0; // the CPU header
    int cpus = 0;
    for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n")) cpus++;
    while (fgets(line, sizeof line, f) && count < 256) {
      char *words[64], *save = NULL;
      int nw = 0;
      for (char *t = strtok_r(line, " \t\n", &save); t && nw < 64; t = strtok_r(NULL, " \t\n", &save))
        words[nw++] = t;
      if (nw < 2 + cpus) continue;
      const char *name = words[nw - 1];
      if (strncmp(name, "vfio-", 5)) continue;
      struct host_irq *h = &irqs[count++];
      h->count = 0;
      for (int c = 1; c <= cpus; c++) h->count += strtoull(words[c], NULL, 10);
      snprintf(h->name, sizeof h->name, "%s", name);
      char *paren = strchr(h->name, '(');
      if (paren) *paren = 0;
      char *br = strchr(h->name, '[');
      h->index = br ? atoi(br + 1) : -1;
    }
    fclose(f);
  }
  qsort(irqs, count, sizeof irqs[0], cmp_host_irq);
  print_label("hostirq", w[1]);
  printf(",\"irqs\":{");
  for (int i = 0; i < count; i++) printf("%s\"%s\":%llu", i ? "," : "", irqs[i].name, irqs[i].count);
  printf("}}\n");
  return 1;
}

// Opens the physical config space and maps the MSI-X BAR through sysfs, before the script runs (once
// vfio-pci has requested the BAR for its own accesses, the kernel may refuse the mapping).
static void open_sysfs(void) {
  char path[256];
  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/config", bdf_name);
  sysfs_config_fd = open(path, O_RDONLY);
  if (sysfs_config_fd < 0) {
    perror("vfio-probe: open sysfs config");
    return;
  }
  uint32_t pos = sysfs_cfg(PCI_CAPABILITY_LIST, 1) & 0xfc;
  for (int guard = 0; pos && guard < 48; guard++) {
    if ((sysfs_cfg(pos, 1) & 0xff) == PCI_CAP_ID_MSIX) {
      msix_cap = pos;
      break;
    }
    pos = sysfs_cfg(pos + 1, 1) & 0xfc;
  }
  if (!msix_cap) return;
  msix_size = (sysfs_cfg(msix_cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
  uint32_t table = sysfs_cfg(msix_cap + PCI_MSIX_TABLE, 4), pba = sysfs_cfg(msix_cap + PCI_MSIX_PBA, 4);
  uint32_t bir = table & PCI_MSIX_TABLE_BIR;
  msix_table_off = table & PCI_MSIX_TABLE_OFFSET;
  msix_pba_off = pba & PCI_MSIX_PBA_OFFSET;
  if ((pba & PCI_MSIX_PBA_BIR) != bir) {
    fprintf(stderr, "vfio-probe: the MSI-X table and PBA are in different BARs; msix is not available\n");
    return;
  }
  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/resource%u", bdf_name, bir);
  int fd = open(path, O_RDWR | O_SYNC);
  if (fd < 0) {
    perror("vfio-probe: open the MSI-X BAR's resource file");
    return;
  }
  size_t len = ((msix_pba_off + 4 * ((msix_size + 31) / 32)) + 4095) & ~4095u;
  if (len < msix_table_off + 16 * msix_size) len = (msix_table_off + 16 * msix_size + 4095) & ~4095u;
  void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (m == MAP_FAILED) perror("vfio-probe: mmap the MSI-X BAR");
  else msix_bar_map = m;
}

static int open_device(const char *bdf, const char *group_path) {
  int container = open("/dev/vfio/vfio", O_RDWR);
  int group = open(group_path, O_RDWR);
  if (container < 0 || group < 0) {
    perror("vfio-probe: open /dev/vfio");
    return -1;
  }
  if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0 ||
      ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0) {
    perror("vfio-probe: attach the group to a type1 container");
    return -1;
  }
  int fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
  if (fd < 0) perror("vfio-probe: VFIO_GROUP_GET_DEVICE_FD");
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: vfio-probe BDF /dev/vfio/GROUP SCRIPT\n");
    return 2;
  }
  device_fd = open_device(argv[1], argv[2]);
  if (device_fd < 0) return 1;
  for (int i = 0; i < NUM_EVENTFDS; i++) {
    eventfds[i] = eventfd(0, EFD_NONBLOCK);
    if (eventfds[i] < 0) {
      perror("vfio-probe: eventfd");
      return 1;
    }
  }
  bdf_name = argv[1];
  open_sysfs();
  FILE *script = fopen(argv[3], "r");
  if (!script) {
    perror("vfio-probe: open the script");
    return 1;
  }
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
    const char *op = w[0];
    int ok = n <= MAX_WORDS &&
             ((!strcmp(op, "info") && run_info(w, n)) || (!strcmp(op, "set") && run_set(w, n)) ||
              (!strcmp(op, "read") && run_read(w, n)) || (!strcmp(op, "setup") && run_setup(w, n)) ||
              (!strcmp(op, "raise") && run_raise(w, n)) || (!strcmp(op, "ack") && run_ack(w, n)) ||
              (!strcmp(op, "signal") && run_signal(w, n)) || (!strcmp(op, "sleep") && run_sleep(w, n)) ||
              (!strcmp(op, "cfgr") && run_cfg(w, n, 0)) || (!strcmp(op, "cfgw") && run_cfg(w, n, 1)) ||
              (!strcmp(op, "barr") && run_bar(w, n, 0)) || (!strcmp(op, "barw") && run_bar(w, n, 1)) ||
              (!strcmp(op, "msix") && run_msix(w, n)) || (!strcmp(op, "intx") && run_intx(w, n)) ||
              (!strcmp(op, "hostirq") && run_hostirq(w, n)));
    if (!ok) print_parse_error(n > 1 ? w[1] : "");
    fflush(stdout);
  }
  return 0;
}
