/**
 * A hand-written SVG chart: panels of latency against offered load, both axes
 * logarithmic, one line per series. No plotting dependency.
 */

export interface Point {
  readonly x: number
  readonly y: number
}

export interface Series {
  readonly name: string
  readonly color: string
  readonly dashed?: boolean | undefined
  readonly points: ReadonlyArray<Point>
}

export interface Panel {
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
  readonly series: ReadonlyArray<Series>
}

const WIDTH = 520
const HEIGHT = 380
const MARGIN = { left: 70, right: 20, top: 40, bottom: 110 }

const escapeXml = (text: string): string =>
  text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`)

/** 1, 2, 5 times powers of ten inside [min, max]. */
const logTicks = (min: number, max: number): Array<number> => {
  const ticks: Array<number> = []
  for (
    let exponent = Math.floor(Math.log10(min));
    exponent <= Math.ceil(Math.log10(max));
    exponent++
  ) {
    for (const mantissa of [1, 2, 5]) {
      const value = mantissa * 10 ** exponent
      if (value >= min * 0.999 && value <= max * 1.001) ticks.push(value)
    }
  }
  return ticks
}

const formatTick = (value: number): string => {
  if (value >= 1000) return `${value / 1000}k`
  if (value >= 1) return String(value)
  return String(Number(value.toPrecision(2)))
}

/** Bounds padded to whole decades, so ticks land at the edges. */
const decadeBounds = (values: ReadonlyArray<number>): [number, number] => {
  const positive = values.filter((value) => value > 0)
  if (positive.length === 0) return [1, 10]
  const low = 10 ** Math.floor(Math.log10(Math.min(...positive)))
  const high = 10 ** Math.ceil(Math.log10(Math.max(...positive)))
  return [low, high === low ? low * 10 : high]
}

const renderPanel = (panel: Panel, offsetX: number): string => {
  const points = panel.series.flatMap((series) => series.points).filter((p) => p.x > 0 && p.y > 0)
  const [xMin, xMax] = decadeBounds(points.map((p) => p.x))
  const [yMin, yMax] = decadeBounds(points.map((p) => p.y))
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom
  const sx = (x: number) =>
    offsetX +
    MARGIN.left +
    ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * plotWidth
  const sy = (y: number) =>
    MARGIN.top +
    plotHeight -
    ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotHeight

  const parts: Array<string> = []
  parts.push(
    `<text x="${offsetX + WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(panel.title)}</text>`,
  )
  for (const tick of logTicks(xMin, xMax)) {
    const x = sx(tick).toFixed(1)
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#e4e4e4"/>`,
    )
    parts.push(
      `<text x="${x}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" font-size="11">${formatTick(tick)}</text>`,
    )
  }
  for (const tick of logTicks(yMin, yMax)) {
    const y = sy(tick).toFixed(1)
    parts.push(
      `<line x1="${offsetX + MARGIN.left}" x2="${offsetX + MARGIN.left + plotWidth}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`,
    )
    parts.push(
      `<text x="${offsetX + MARGIN.left - 6}" y="${Number(y) + 4}" text-anchor="end" font-size="11">${formatTick(tick)}</text>`,
    )
  }
  parts.push(
    `<rect x="${offsetX + MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`,
  )
  parts.push(
    `<text x="${offsetX + MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 36}" text-anchor="middle" font-size="12">${escapeXml(panel.xLabel)}</text>`,
  )
  const yLabelX = offsetX + 18
  const yLabelY = MARGIN.top + plotHeight / 2
  parts.push(
    `<text x="${yLabelX}" y="${yLabelY}" text-anchor="middle" font-size="12" transform="rotate(-90 ${yLabelX} ${yLabelY})">${escapeXml(panel.yLabel)}</text>`,
  )

  panel.series.forEach((series, index) => {
    const visible = series.points.filter((p) => p.x > 0 && p.y > 0).toSorted((a, b) => a.x - b.x)
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : ""
    if (visible.length > 1) {
      const path = visible
        .map((p, i) => `${i === 0 ? "M" : "L"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
        .join(" ")
      parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`)
    }
    for (const p of visible) {
      parts.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${series.color}"/>`,
      )
    }
    const column = index % 2
    const row = Math.floor(index / 2)
    const legendX = offsetX + MARGIN.left + column * (plotWidth / 2)
    const legendY = MARGIN.top + plotHeight + 58 + row * 18
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${series.color}" stroke-width="2"${dash}/>`,
    )
    parts.push(
      `<text x="${legendX + 30}" y="${legendY}" font-size="11">${escapeXml(series.name)}</text>`,
    )
  })
  return parts.join("\n")
}

/** Renders the panels side by side as one SVG document. */
export const renderChart = (panels: ReadonlyArray<Panel>, caption: string): string => {
  const width = WIDTH * panels.length
  const height = HEIGHT + 24
  const title = panels.map((panel) => panel.title).join("; ")
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeXml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...panels.map((panel, index) => renderPanel(panel, index * WIDTH)),
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n")
}
