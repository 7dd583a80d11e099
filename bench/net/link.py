#!/usr/bin/env python3
"""A user-space delay link between two network namespaces (this kernel has no sch_netem).

usage: link.py NS_A NS_B DELAY_MS [LOG]

Creates one TUN device inside each namespace (mxb0 in NS_A, mxb1 in NS_B: the process enters
each namespace with setns just to create it; the file descriptors keep working from anywhere),
then forwards every packet read from one to the other DELAY_MS later. A constant delay keeps
FIFO order, so each direction is a plain queue, bounded (a full queue drops, as a router
would). Prints "ready" once both devices exist; a line "stats" on stdin prints one JSON line
(packets forwarded, dropped, the longest queue); exits when its stdin closes. With LOG, one
line per packet (but the echo port's, too many) goes there: when it entered the link, which way,
TCP flags and payload size, DNS names: where a session's time goes, as seen on the wire.
"""
import collections
import ctypes
import fcntl
import json
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
MAX_QUEUED = 4096  # packets per direction
MTU_READ = 65536

libc = ctypes.CDLL(None, use_errno=True)


def enter(path):
	fd = os.open(path, os.O_RDONLY)
	try:
		if libc.setns(fd, CLONE_NEWNET) != 0:
			raise OSError(ctypes.get_errno(), f'setns {path}')
	finally:
		os.close(fd)


def tun(name):
	fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
	fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
	return fd


def qname(data, offset):
	labels = []
	while offset < len(data) and data[offset] != 0 and len(labels) < 64:
		size = data[offset]
		if size & 0xC0:
			return '.'.join(labels) + '.(ptr)', offset + 2
		labels.append(data[offset + 1:offset + 1 + size].decode('ascii', 'replace'))
		offset += 1 + size
	return '.'.join(labels) + '.', offset + 1


TYPES = {1: 'A', 5: 'CNAME', 15: 'MX', 16: 'TXT', 28: 'AAAA', 52: 'TLSA', 48: 'DNSKEY', 12: 'PTR', 2: 'NS', 6: 'SOA'}


def describe(data):
	"""One packet in a few words, or None for the echo port's. Never raises on short input."""
	try:
		if len(data) < 20 or data[0] >> 4 != 4:
			return f'non-IPv4 len={len(data)}'
		ihl = (data[0] & 15) * 4
		proto = data[9]
		body = data[ihl:]
		src = '.'.join(str(b) for b in data[12:16])
		dst = '.'.join(str(b) for b in data[16:20])
		sport, dport = struct.unpack('!HH', body[:4])
		if 7 in (sport, dport):
			return None
		if proto == 6:
			flags = body[13]
			names = ''.join(c for c, bit in zip('FSRPAU', range(6)) if flags & (1 << bit))
			payload = len(body) - (body[12] >> 4) * 4
			return f'tcp {src}:{sport}>{dst}:{dport} {names} len={payload}'
		if proto == 17:
			dns = body[8:]
			text = f'udp {src}:{sport}>{dst}:{dport} len={len(dns)}'
			if 53 in (sport, dport) and len(dns) > 12:
				name, end = qname(dns, 12)
				qtype = struct.unpack('!H', dns[end:end + 2])[0] if end + 2 <= len(dns) else 0
				answers = struct.unpack('!H', dns[6:8])[0]
				kind = f'answer rcode={dns[3] & 15} an={answers}' if dns[2] & 0x80 else 'query'
				text += f' dns {kind} {TYPES.get(qtype, qtype)} {name}'
			return text
		return f'proto={proto} len={len(data)}'
	except (IndexError, struct.error):
		return f'short len={len(data)}'


def main():
	ns_a, ns_b, delay_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])
	log = open(sys.argv[4], 'w', buffering=1) if len(sys.argv) > 4 else None
	home = os.open('/proc/self/ns/net', os.O_RDONLY)
	enter(f'/var/run/netns/{ns_a}')
	fd_a = tun('mxb0')
	enter(f'/var/run/netns/{ns_b}')
	fd_b = tun('mxb1')
	libc.setns(home, CLONE_NEWNET)
	os.close(home)
	print('ready', flush=True)

	delay = delay_ms / 1000
	# Packets read from a device wait in the queue of the device they go to.
	queues = {fd_a: collections.deque(), fd_b: collections.deque()}
	other = {fd_a: fd_b, fd_b: fd_a}
	stdin = sys.stdin.fileno()
	dropped = 0
	forwarded = 0
	longest = 0
	while True:
		now = time.monotonic()
		for fd, queue in queues.items():
			while queue and queue[0][0] <= now:
				try:
					os.write(fd, queue.popleft()[1])
					forwarded += 1
				except OSError:
					dropped += 1  # device gone or full: a lost packet, TCP retransmits
		due = [queue[0][0] for queue in queues.values() if queue]
		timeout = max(0.0, min(due) - time.monotonic()) if due else 1.0
		readable, _, _ = select.select([fd_a, fd_b, stdin], [], [], timeout)
		now = time.monotonic()
		for fd in readable:
			if fd == stdin:
				command = os.read(stdin, 4096)
				if not command:
					sys.stderr.write(f'link: stdin closed, exiting ({dropped} packets dropped)\n')
					return
				if b'stats' in command:
					print(json.dumps({'forwarded': forwarded, 'dropped': dropped, 'longestQueue': longest}), flush=True)
				continue
			for _ in range(64):  # drain what is there, bounded
				try:
					data = os.read(fd, MTU_READ)
				except BlockingIOError:
					break
				if log is not None:
					what = describe(data)
					if what is not None:
						log.write(f'{now * 1000:.1f} {">" if fd == fd_a else "<"} {what}\n')
				queue = queues[other[fd]]
				if len(queue) >= MAX_QUEUED:
					dropped += 1
				else:
					queue.append((now + delay, data))
					longest = max(longest, len(queue))


if __name__ == '__main__':
	main()
