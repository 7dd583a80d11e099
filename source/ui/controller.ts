/** What the dashboard can ask of the engine; the UI itself never probes or diagnoses. */
export type Controller = {
	/** Re-probe these probe keys now. */
	reprobe(keys: string[]): void;
	reprobeAll(): void;
	/** Returns an error message, or undefined when the domain was added. */
	addDomain(input: string): string | undefined;
	removeDomain(domain: string): void;
	quit(): void;
};
