/**
 * Answer bytes off the JS heap: one slab per size class, grown in chunks of unpooled memory (a
 * chunk is an ArrayBuffer the GC never looks inside), slots reused through a free list. The
 * cache decides what lives here; the arena only hands out slots and says what it holds.
 */
import { Buffer } from 'node:buffer';

/** Slot sizes: fine steps where most answers are (under 1 KB), doubling above 4 KB. */
const CLASSES = [
  48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
  1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 8192, 16384, 32768, 65536, 131072,
];
/** Bytes per chunk (slots of the bigger classes get a chunk each). */
const CHUNK_BYTES = 64 * 1024;

/** The class for `len` bytes, or -1 when nothing here holds it. */
const CLASS_OF = new Int8Array(4097).fill(-1);
for (let len = 0, c = 0; len <= 4096; len++) {
  while (CLASSES[c] < len) c++;
  CLASS_OF[len] = c;
}

class SizeClass {
  readonly chunks: Buffer[] = [];
  readonly free: number[] = [];
  /** slots handed out from the end of the last chunk so far */
  next = 0;
  readonly perChunk: number;
  constructor(readonly size: number) {
    this.perChunk = Math.max(1, Math.floor(CHUNK_BYTES / size));
  }
}

export class SlabArena {
  private readonly classes = CLASSES.map((size) => new SizeClass(size));
  /** bytes of every chunk made so far (they stay: the slab keeps to its high-water mark) */
  allocatedBytes = 0;

  static classOf(len: number): number {
    if (len <= 4096) return CLASS_OF[len];
    for (let c = 26; c < CLASSES.length; c++) if (CLASSES[c] >= len) return c;
    return -1;
  }

  static slotSize(cls: number): number {
    return CLASSES[cls];
  }

  /** Bytes one more chunk of this class would take. */
  chunkBytes(cls: number): number {
    const k = this.classes[cls];
    return k.perChunk * k.size;
  }

  /**
   * A free slot of class `cls`; a new chunk only when `grow` (the cache says whether its budget
   * allows one). -1: none free and no growing.
   */
  alloc(cls: number, grow: boolean): number {
    const k = this.classes[cls];
    const reused = k.free.pop();
    if (reused !== undefined) return reused;
    if (k.next < k.chunks.length * k.perChunk) return k.next++;
    if (!grow) return -1;
    k.chunks.push(Buffer.allocUnsafeSlow(k.perChunk * k.size));
    this.allocatedBytes += k.perChunk * k.size;
    return k.next++;
  }

  release(cls: number, slot: number): void {
    this.classes[cls].free.push(slot);
  }

  /** The chunk holding a slot; its bytes start at `offset(cls, slot)`. */
  chunk(cls: number, slot: number): Buffer {
    const k = this.classes[cls];
    return k.chunks[(slot / k.perChunk) | 0];
  }

  offset(cls: number, slot: number): number {
    const k = this.classes[cls];
    return (slot % k.perChunk) * k.size;
  }

  /** Every slot back on its free list (a flush); the chunks stay for what comes next. */
  releaseAll(): void {
    for (const k of this.classes) {
      k.free.length = 0;
      k.next = 0;
    }
  }
}
