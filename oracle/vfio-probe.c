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
//   LABEL  any word; printed back, JSON-escaped (" and \ get a backslash).
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
#include <unistd.h>
#include <linux/vfio.h>

#define NUM_EVENTFDS 16
#define MAX_WORDS 300
#define DATA_MAX 8192 // vfio_set_irqs_validate_and_prepare bounds data by count <= 2048 MSI-X vectors

static int device_fd;
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
  for (const char *c = label; *c; c++) {
    if (*c == '"' || *c == '\\') putchar('\\');
    putchar(*c);
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
    int ok = n <= MAX_WORDS && ((!strcmp(w[0], "info") && run_info(w, n)) ||
                                (!strcmp(w[0], "set") && run_set(w, n)) || (!strcmp(w[0], "read") && run_read(w, n)));
    if (!ok) print_parse_error(n > 1 ? w[1] : "");
    fflush(stdout);
  }
  return 0;
}
