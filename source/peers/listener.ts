// The TCP side every scripted peer shares (the demo, the benchmark, the tests' scripted and
// hostile servers): a listener on one loopback address that keeps track of its connections,
// so that closing it ends them at once instead of waiting for each client.
import net from 'node:net';
import type {AddressInfo} from 'node:net';

export type ListenerOptions = {
	host: string;
	/** 0 (the default) picks a free unprivileged port. */
	port?: number;
	/** Keep the connection writable after the client's FIN (the default answers FIN with FIN). */
	allowHalfOpen?: boolean;
	noDelay?: boolean;
	/** Connections past this many are refused by the kernel's accept, not served. */
	maxConnections?: number;
};

export type Listener = {
	host: string;
	port: number;
	/** Destroy every open connection, then stop listening. */
	close(): Promise<void>;
};

export async function listen(options: ListenerOptions, onConnection: (socket: net.Socket) => void): Promise<Listener> {
	const sockets = new Set<net.Socket>();
	const server = net.createServer({allowHalfOpen: options.allowHalfOpen ?? false, ...(options.noDelay === undefined ? {} : {noDelay: options.noDelay})}, socket => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
		onConnection(socket);
	});
	if (options.maxConnections !== undefined) {
		server.maxConnections = options.maxConnections;
	}

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, options.host, () => {
			server.removeListener('error', reject);
			resolve();
		});
	});

	return {
		host: options.host,
		port: (server.address() as AddressInfo).port,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}

/**
 * A port on `host` where nothing listens, so connecting is refused at once: bind port 0 to
 * learn a free port, then close it. Another program could take it meanwhile; on a loopback
 * address of its own that is unlikely.
 */
export async function closedPort(host: string): Promise<number> {
	const probe = net.createServer();
	await new Promise<void>((resolve, reject) => {
		probe.once('error', reject);
		probe.listen(0, host, () => {
			resolve();
		});
	});
	const {port} = probe.address() as AddressInfo;
	await new Promise<void>(resolve => {
		probe.close(() => {
			resolve();
		});
	});
	return port;
}
