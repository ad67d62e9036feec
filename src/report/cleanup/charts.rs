//! The charts of the HTML report, drawn by plotters as SVG text to inline in the page:
//! no script, font or image is loaded from anywhere.

use plotters::prelude::*;

use super::{AGE_BUCKETS, KindAge, Week};

const WIDTH: u32 = 720;
const HEIGHT: u32 = 260;
/// Colours that colour-blind readers tell apart (Okabe and Ito).
const BLUE: RGBColor = RGBColor(0, 114, 178);
const ORANGE: RGBColor = RGBColor(230, 159, 0);
const GREEN: RGBColor = RGBColor(0, 158, 115);
const VERMILION: RGBColor = RGBColor(213, 94, 0);
const FONT: &str = "sans-serif";

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Draws into an SVG string; a drawing error leaves a note instead of a chart.
fn svg(
    height: u32,
    draw: impl FnOnce(DrawingArea<SVGBackend, plotters::coord::Shift>) -> Drawn,
) -> String {
    let mut text = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        draw(root)
    };
    match result {
        Ok(()) => text,
        Err(_) => String::from("<p>(the chart could not be drawn)</p>"),
    }
}

/// A series' square of colour in the legend.
fn swatch(colour: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
}

/// The legend of the series, top right.
fn legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
) -> Drawn {
    chart
        .configure_series_labels()
        .border_style(BLACK.mix(0.3))
        .background_style(WHITE.mix(0.9))
        .label_font((FONT, 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

/// "11-23": the Monday of a week, short.
fn week_label(weeks: &[Week], index: usize) -> String {
    weeks
        .get(index)
        .map_or_else(String::new, |w| w.start.format("%m-%d").to_string())
}

/// Live flags at the end of each week.
pub fn live_flags(weeks: &[Week]) -> String {
    svg(HEIGHT, |root| {
        root.fill(&WHITE)?;
        let top = weeks.iter().map(|w| w.live).max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption("Live flags at the end of each week", (FONT, 20))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0..weeks.len().max(1) - 1, 0..top + top / 10 + 1)?;
        chart
            .configure_mesh()
            .x_labels(weeks.len().min(13))
            .x_label_formatter(&|i| week_label(weeks, *i))
            .y_desc("flags")
            .label_style((FONT, 14))
            .draw()?;
        let points: Vec<(usize, usize)> =
            weeks.iter().enumerate().map(|(i, w)| (i, w.live)).collect();
        chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)))?;
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, BLUE.filled())))?;
        root.present()?;
        Ok(())
    })
}

/// Flags created and archived in each week, side by side.
pub fn created_vs_archived(weeks: &[Week]) -> String {
    svg(HEIGHT, |root| {
        root.fill(&WHITE)?;
        let top = weeks
            .iter()
            .map(|w| w.created.max(w.archived))
            .max()
            .unwrap_or(0)
            .max(1);
        let slots = weeks.len() as u32 * 3;
        let mut chart = ChartBuilder::on(&root)
            .caption("Flags created and archived per week", (FONT, 20))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0..slots.max(3), 0..top + top / 10 + 1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(weeks.len().min(13))
            .x_label_formatter(&|slot| week_label(weeks, (*slot / 3) as usize))
            .y_desc("flags")
            .label_style((FONT, 14))
            .draw()?;
        let bars = |offset: u32, count: fn(&Week) -> usize, colour: RGBColor| {
            weeks.iter().enumerate().map(move |(i, w)| {
                let x = i as u32 * 3 + offset;
                Rectangle::new([(x, 0), (x + 1, count(w))], colour.filled())
            })
        };
        chart
            .draw_series(bars(0, |w| w.created, GREEN))?
            .label("created")
            .legend(swatch(GREEN));
        chart
            .draw_series(bars(1, |w| w.archived, ORANGE))?
            .label("archived")
            .legend(swatch(ORANGE));
        legend(&mut chart)?;
        root.present()?;
        Ok(())
    })
}

/// Live flags of each kind, stacked by age.
pub fn ages_by_kind(ages: &[KindAge]) -> String {
    // Room for the legend, which sits right of the longest bar.
    let height = (90 + 36 * ages.len() as u32).max(220);
    svg(height, |root| {
        root.fill(&WHITE)?;
        let top = ages.iter().map(|a| a.live).max().unwrap_or(0).max(1);
        let label_width = ages
            .iter()
            .map(|a| a.kind.chars().count() as u32 * 7 + 16)
            .max()
            .unwrap_or(60)
            .clamp(60, 240);
        let mut chart = ChartBuilder::on(&root)
            .caption("Live flags by kind and age", (FONT, 20))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(label_width)
            .build_cartesian_2d(
                0..top + top * 3 / 5 + 2,
                (0..ages.len().max(1)).into_segmented(),
            )?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(ages.len().max(1))
            .y_label_formatter(&|value| match value {
                SegmentValue::CenterOf(i) => {
                    ages.get(*i).map_or_else(String::new, |a| a.kind.clone())
                }
                _ => String::new(),
            })
            .x_desc("flags")
            .label_style((FONT, 14))
            .draw()?;
        let colours = [GREEN, BLUE, ORANGE, VERMILION];
        for (bucket, (label, colour)) in AGE_BUCKETS.iter().zip(colours).enumerate() {
            chart
                .draw_series(ages.iter().enumerate().map(move |(row, age)| {
                    let from: usize = age.buckets[..bucket].iter().sum();
                    let to = from + age.buckets[bucket];
                    let mut bar = Rectangle::new(
                        [
                            (from, SegmentValue::Exact(row)),
                            (to, SegmentValue::Exact(row + 1)),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(6, 6, 0, 0);
                    bar
                }))?
                .label(*label)
                .legend(swatch(colour));
        }
        legend(&mut chart)?;
        root.present()?;
        Ok(())
    })
}
