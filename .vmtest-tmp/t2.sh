set -e
R=$(uname -r); echo "kernel $R cwd $(pwd) tty: $(tty || true)"
insmod .vmtest-tmp/hello-$R.ko && echo INSMOD_HELLO_OK
grep hello /proc/modules
rmmod hello
dmesg | grep -E 'hello|taint|verif' || true
dd if=/dev/kmsg bs=8192 count=1 iflag=nonblock 2>/dev/null | head -1
modprobe ip_vs && echo MODPROBE_OK
setpriv --reuid=65534 --regid=65534 --clear-groups id
cat /proc/sys/kernel/tainted
exit 3
