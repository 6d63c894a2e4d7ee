resource "aws_security_group" "rdp" {
  name = "rdp-admin"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "winrm" {
  ingress {
    from_port   = 5985
    to_port     = 5986
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_subnet" "a" {
  vpc_id     = "vpc-1"
  cidr_block = "10.0.0.0/24"
}

resource "aws_instance" "by_id" {
  ami                    = "ami-0abc"
  vpc_security_group_ids = [aws_security_group.rdp.id, "sg-0123"]
  subnet_id              = aws_subnet.a.id
}

resource "aws_instance" "by_name" {
  security_groups = [aws_security_group.rdp.name, "default"]
  subnet_id       = "subnet-0aaa"
}

resource "aws_launch_template" "web" {
  name                   = "web-lt"
  vpc_security_group_ids = [aws_security_group.winrm.id]
  security_group_names   = [aws_security_group.rdp.name]
  network_interfaces {
    security_groups = [aws_security_group.rdp.id]
    subnet_id       = aws_subnet.a.id
  }
}

resource "aws_instance" "from_template_id" {
  launch_template {
    id = aws_launch_template.web.id
  }
  network_interface {
    network_interface_id = aws_network_interface.eni.id
    device_index         = 0
  }
}

resource "aws_instance" "from_template_name" {
  launch_template {
    name = aws_launch_template.web.name
  }
}

resource "aws_launch_configuration" "lc" {
  image_id        = "ami-0lc"
  security_groups = [aws_security_group.winrm.id]
}

resource "aws_autoscaling_group" "by_template" {
  vpc_zone_identifier = [aws_subnet.a.id, "subnet-0bbb"]
  launch_template {
    id      = aws_launch_template.web.id
    version = "$Latest"
  }
}

resource "aws_autoscaling_group" "by_configuration" {
  launch_configuration = aws_launch_configuration.lc.name
}

resource "aws_autoscaling_group" "mixed" {
  mixed_instances_policy {
    launch_template {
      launch_template_specification {
        launch_template_name = aws_launch_template.web.name
      }
    }
  }
}

resource "aws_network_interface" "eni" {
  subnet_id       = aws_subnet.a.id
  security_groups = [aws_security_group.winrm.id]
}

resource "aws_network_interface_sg_attachment" "extra" {
  security_group_id    = aws_security_group.rdp.id
  network_interface_id = aws_network_interface.eni.id
}

module "edge" {
  source = "./edge"
}

resource "aws_instance" "by_unset_name" {
  vpc_security_group_ids = [aws_security_group.rdp.id]
  security_groups        = [aws_security_group.winrm.name]
}
