/** Types of redis-cluster.mjs, for the tests that start a cluster. */
export declare const NODE_TIMEOUT_MS: number;

export interface OwnCluster {
  /** Every node's port (masters and replicas). */
  readonly ports: readonly number[];
  /** redis:// URLs of every node. */
  readonly urls: readonly string[];
  /** The ports of the nodes that are masters now. */
  masters(): Promise<number[]>;
  /** SIGKILLs the node on `port`; resolves once it is gone. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again: it rejoins as a replica of the node that took over its slots. */
  restart(port: number): Promise<void>;
  /** Resolves once every live replica's link to its master is up. */
  synced(timeoutMs?: number): Promise<void>;
  /** Resolves once the live nodes agree the cluster is ok with every slot served, none by a killed node. */
  settled(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes their data. */
  stop(): Promise<void>;
}

export declare function startCluster(options?: {
  readonly ports?: readonly number[];
  readonly masters?: number;
  readonly replicas?: number;
}): Promise<OwnCluster>;
