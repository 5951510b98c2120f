// The part of uPlot 1.6's API that static/js/charts.js uses, written for
// netstep so that tsc --checkJs can check the loss chart (the vendored
// build is minified and has no types). Not embedded in the binary; kept by
// fetch.sh. Extend it when charts.js uses more of uPlot.

/** The plot's columns: x values first, then one column per series (null: a gap). */
export type Data = (number | null)[][];

export interface Scale {
  /** false: the x values are plain numbers, not Unix times. */
  time?: boolean;
  /** false: the range comes from min and max (or setScale), not the data. */
  auto?: boolean;
  min?: number;
  max?: number;
  /** 3: a logarithmic scale, with log its base. */
  distr?: 1 | 2 | 3 | 4 | 100;
  log?: 2 | 10;
  /** The scale's [min, max] from the data's lowest and highest values. */
  range?: (u: uPlot, lo: number, hi: number, key: string) => [number, number];
}

export interface Axis {
  stroke?: string;
  grid?: { stroke?: string; show?: boolean };
  ticks?: { stroke?: string; show?: boolean };
  label?: string;
  labelSize?: number;
  /** The axis's width (or height) in CSS pixels, or a function of its tick labels. */
  size?: number | ((u: uPlot, values: string[] | null, axisIdx: number, cycleNum: number) => number);
  /** The tick spacings the axis may choose from. */
  incrs?: number[];
  /** The tick labels for the tick values; incr is the spacing chosen. */
  values?: (u: uPlot, ticks: number[], axisIdx: number, space: number, incr: number) => (string | number | null)[];
}

export interface Series {
  label?: string;
  stroke?: string;
  width?: number;
  /** A line's dash pattern, as the canvas's setLineDash takes it. */
  dash?: number[];
  points?: { show?: boolean | ((u: uPlot, seriesIdx: number) => boolean); size?: number; fill?: string };
}

export interface Options {
  width: number;
  height: number;
  legend?: { show?: boolean; live?: boolean };
  cursor?: { show?: boolean };
  scales?: Record<string, Scale>;
  axes?: Axis[];
  /** The first entry stands for the x values. */
  series: Series[];
}

/** uPlot draws a chart of data into target (a canvas inside a new element). */
declare class uPlot {
  constructor(opts: Options, data: Data, target: HTMLElement);
  /** The columns drawn now. */
  readonly data: Data;
  /** setData replaces the columns and redraws (rescaling unless resetScales is false). */
  setData(data: Data, resetScales?: boolean): void;
  /** setScale sets a scale's range and redraws. */
  setScale(key: string, limits: { min: number; max: number }): void;
  /** destroy removes the chart and its listeners. */
  destroy(): void;
}

export default uPlot;
