// Finds the objects in one image of the shapes world (or a model's attempt at one): bright
// connected regions on a dark background, each given the nearest named colour, the shape whose
// outline fits its pixels best (IoU against the world's own outlines at the region's bounding
// box), a size and a position. Plain libtorch/C++: runs where OpenCV is absent.
#pragma once

#include "sagegen/world/shapes_world.h"

#include <ATen/core/Tensor.h>

#include <vector>

namespace sagegen::eval {

struct DetectedObject {
  world::Colour colour = world::Colour::kRed;
  world::Shape shape = world::Shape::kCircle;
  world::Size size = world::Size::kSmall;
  float cx = 0, cy = 0;   // bounding-box centre, in [0, 1] of width / height
  float mx = 0, my = 0;   // centroid of the pixels, in [0, 1]
  float radius = 0;       // half the larger bounding-box side, in [0, 1] of the image side
  int area = 0;           // pixels
  float shape_iou = 0;    // IoU of the winning outline
};

// image: [H, W, 3] uint8 (CPU). Largest objects first; regions under a minimum area are noise.
std::vector<DetectedObject> detect_objects(const at::Tensor& image);

// Motion between the same object in the first and the last frame: a centroid shift of at least
// 0.1 of the image is a move along its larger axis; else an area ratio of 1.6 is growing or
// shrinking; else none.
world::Motion classify_motion(const DetectedObject& first, const DetectedObject& last);

}  // namespace sagegen::eval
