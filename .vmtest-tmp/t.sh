set -x
id; pwd; uname -r
mount | grep -E ' / | /work| /tmp| /var/tmp| /lib' 
touch /work/main/.vmtest-tmp/written && echo WRITE_OK
modprobe ip_vs && lsmod | grep ip_vs
modprobe -r ip_vs
R=$(uname -r)
cp /lib/modules/$R/kernel/net/netfilter/ipvs/ip_vs.ko* /tmp/ 2>&1; ls /tmp/ip_vs.ko*
ls /work/main/.vmtest-tmp/
modinfo -F depends /lib/modules/$R/kernel/net/netfilter/ipvs/ip_vs.ko*
for d in $(modinfo -F depends /lib/modules/$R/kernel/net/netfilter/ipvs/ip_vs.ko* | tr , ' '); do modprobe $d; done
insmod /work/main/.vmtest-tmp/ip_vs.ko* && echo INSMOD_OK; lsmod | grep ip_vs
rmmod ip_vs && echo RMMOD_OK
dmesg | tail -5
head -c 300 /dev/kmsg </dev/null & sleep 1; kill $! 2>/dev/null
setpriv --reuid=65534 --regid=65534 --clear-groups id
su nobody -s /bin/sh -c id
setpriv --reuid=65534 --regid=65534 --clear-groups dmesg | tail -2; echo "nonroot dmesg rc=$?"
cat /proc/sys/kernel/dmesg_restrict
which python3 pytest; python3 -c 'import yaml, jsonschema; print("py ok")'
ls /sys/kernel/debug | head -3
exit 42
