export type ErrorCode = 'bad-domain' | 'bad-resolver' | 'bad-flag' | 'bad-address' | 'bad-ca' | 'bad-config' | 'no-domains';

/** An error the user caused: shown as one line, with exit code 3. */
export class MxdashError extends Error {
	constructor(readonly code: ErrorCode, message: string) {
		super(message);
		this.name = 'MxdashError';
	}
}
