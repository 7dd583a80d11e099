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
	const server = net.createServer({allowHalfOpen: options.allowHalfOpen ?? false, ...(options.noDelay === undefined ? {} : {noDelay: options.noDelay})}, onConnection);
	if (options.maxConnections !== undefined) {
		server.maxConnections = options.maxConnections;
	}

	return serve(server, options.host, options.port);
}

/**
 * Start `server` (plain TCP, or a TLS or HTTPS server, which are TCP servers too) on `host`,
 * keeping track of its connections so that close() ends them at once.
 */
export async function serve(server: net.Server, host: string, port = 0): Promise<Listener> {
	const sockets = new Set<net.Socket>();
	server.on('connection', (socket: net.Socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.removeListener('error', reject);
			resolve();
		});
	});

	return {
		host,
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
