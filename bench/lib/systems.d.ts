/** Types of systems.js, for the tests that import it. */
export declare const PEERS_OF: Readonly<Record<string, readonly string[]>>;
export declare function runOrder(stores: readonly string[], peers: readonly string[]): string[];
export declare const inProcess: (system: string) => boolean;
export declare function e2eSize(system: string, concurrency: number, quick: boolean): number;
export declare function serialSize(system: string, quick: boolean): number;
export declare function bulkSize(system: string, quick: boolean): number;
